import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChannelGate } from "../../../../durable-objects/channel-gate";
import { seedBeds24, type Beds24Portfolio } from "../../../support/beds24";
import { addDaysUtc, sandbox, setGateSettings } from "../../../support/fixtures";

/**
 * A Beds24 connection's ChannelGate against the sandbox enforcing 100 credits per 5 minutes: the
 * credits the sandbox reports left (x-five-min-limit-remaining) override the gate's own estimate,
 * so it stops before a 429 and comes back when the sandbox says credits return. The gate's clock
 * is injected; the sandbox keeps real time.
 */

type Stub = DurableObjectStub<ChannelGate>;

interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  fault: string | null;
}

let p: Beds24Portfolio;
beforeEach(async () => {
  await sandbox("DELETE", "/_sandbox/beds24/faults");
  p = await seedBeds24({ rooms: 6 });
  // No alarm of its own while the test marks: every flush here is driven by the test.
  await setGateSettings(p.connectionId, { coalesce: { quiet_ms: 60_000, max_delay_ms: 60_000 } });
});
afterEach(async () => {
  await sandbox("DELETE", "/_sandbox/beds24/faults");
});

async function setClock(gate: Stub, at: () => number) {
  await runInDurableObject(gate, (instance: ChannelGate) => {
    instance.clock = at;
  });
}

async function requests(since: number): Promise<LoggedRequest[]> {
  const log = await sandbox<{ requests: LoggedRequest[] }>(
    "GET",
    "/_sandbox/beds24/requests?limit=500",
  );
  return log.requests.filter((r) => r.at >= since);
}

const posts = (rs: LoggedRequest[]) =>
  rs.filter((r) => r.method === "POST" && r.path === "/beds24/inventory/rooms/calendar");

async function roomCalendar(roomId: string) {
  const days = await sandbox<{ days: Array<{ num_avail: number; price: string }> }>(
    "GET",
    `/_sandbox/beds24/properties/${p.propId}/rooms/${roomId}/calendar?start=${addDaysUtc(1)}&end=${addDaysUtc(5)}`,
  );
  return days.days.map((d) => `${d.num_avail}/${d.price}`);
}

describe("ChannelGate × Beds24 credits", () => {
  it(
    "the sandbox's remaining credits stop the gate before a 429; the rest waits until they return",
    { timeout: 30_000 },
    async () => {
      await sandbox("POST", "/_sandbox/beds24/faults", { enforce_rate_limit: true });
      // Another client of the account spent 81 of its 100 credits a moment ago.
      const spent = await sandbox<{ credits: { remaining: number } }>(
        "POST",
        `/_sandbox/beds24/accounts/${p.account}/credits`,
        { spend: 81 },
      );
      expect(spent.credits.remaining).toBe(19);

      const gate = env.CHANNEL_GATE.getByName(p.connectionId);
      const t0 = Date.now();
      // Each reading 1 ms later: calls settle in order, as on a real clock (a frozen clock makes
      // the limiter count a call settled in the same millisecond as a quota twice).
      let tick = 0;
      await setClock(gate, () => t0 + tick++);
      for (const r of p.rooms) {
        await gate.markDirty({
          tenantId: p.tenantId,
          connectionId: p.connectionId,
          roomTypeId: r.roomTypeId,
          ranges: [{ start: addDaysUtc(1), end: addDaysUtc(5) }],
          causeKey: `beds24-${r.roomTypeId}`,
          changedAt: t0,
        });
      }
      const since = Date.now();
      const held = await gate.flushNow();

      // 12 calls are planned (6 rooms × availability, price). Its own estimate (100 credits, none
      // spent) would send all 12 (13.2 credits), spending what inbound calls and a booking's
      // nights need. The sandbox said 19 left: 10 are kept for inbound calls and 5 for urgent
      // pushes, so 3 calls of 1.1 go, then stop.
      const log = await requests(since);
      expect(log.filter((r) => r.status === 429)).toEqual([]);
      expect(log.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
        "GET /beds24/authentication/token 200",
        "POST /beds24/inventory/rooms/calendar 200",
        "POST /beds24/inventory/rooms/calendar 200",
        "POST /beds24/inventory/rooms/calendar 200",
      ]);
      const credits = await sandbox<{ credits: { remaining: number } }>(
        "GET",
        `/_sandbox/beds24/accounts/${p.account}/credits`,
      );
      expect(credits.credits.remaining).toBeCloseTo(15.7, 5);

      // Held by the platform's word, not failed: no error, no backoff.
      expect(held.consecutiveFailures).toBe(0);
      expect(held.lastError).toBeNull();
      expect(held.rateLimit.capacity).toBe(100);
      expect(held.rateLimit.reserved).toBe(10);
      expect(held.rateLimit.quota?.remaining).toBeCloseTo(15.7, 5);
      // Availability went first: three rooms' availability is done, the rest is pending.
      const pending = held.pending.map((x) => `${x.roomTypeId}|${x.aspect}`).sort();
      const expected = p.rooms
        .flatMap((r, i) => [
          ...(i >= 3 ? [`${r.roomTypeId}|availability`] : []),
          `${r.roomTypeId}|price`,
        ])
        .sort();
      expect(pending).toEqual(expected);
      // Due when the sandbox says credits come back (its oldest spend ages out, ~300 s), far
      // beyond anything the gate's own estimate would have waited.
      const quota = held.rateLimit.quota!;
      expect(held.jobs).toEqual([{ name: "flush", dueAt: quota.resetsAt, attempts: 0 }]);
      expect(quota.resetsAt - t0).toBeGreaterThan(60_000);
      expect(quota.resetsAt - t0).toBeLessThanOrEqual(301_000); // + the clock's ticks

      // Before then the alarm sends nothing.
      await setClock(gate, () => quota.resetsAt - 1_000);
      await runDurableObjectAlarm(gate);
      expect(posts(await requests(since))).toHaveLength(3);

      // Five minutes later the account's credits are back (the sandbox forgets them) and the
      // alarm, due then, delivers the rest.
      await sandbox("DELETE", `/_sandbox/beds24/accounts/${p.account}/credits`);
      await setClock(gate, () => quota.resetsAt);
      await runDurableObjectAlarm(gate);
      const done = await gate.status();
      expect(done.pendingNights).toBe(0);
      const all = await requests(since);
      expect(posts(all).map((r) => r.status)).toEqual(Array(12).fill(200));
      expect(all.filter((r) => r.status === 429)).toEqual([]);
      for (const r of p.rooms) {
        expect(await roomCalendar(r.roomId)).toEqual(Array(5).fill("1/120.00"));
      }
    },
  );
});
