import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChannelGate } from "../../../../durable-objects/channel-gate";
import { coalesceRanges } from "../../../../src/domain/date-ranges";
import { encryptCredentials } from "../../../../src/lib/credentials-crypto";
import {
  addDaysUtc,
  eventually,
  sandbox,
  seedPortfolio,
  uniqueDigits,
  type Delivery,
  type Portfolio,
} from "../../../support/fixtures";

/**
 * The ChannelGate's limiter, breaker, coalescing and tokens against the sandbox platforms. Time
 * is the gate's injected clock wherever the test needs exact moments; the sandbox keeps real time.
 */

let p: Portfolio;
beforeEach(async () => {
  p = await seedPortfolio();
  await sandbox("DELETE", "/_sandbox/airbnb/faults");
  await sandbox("DELETE", "/_sandbox/booking_com/faults");
});
afterEach(async () => {
  await sandbox("DELETE", "/_sandbox/airbnb/faults");
  await sandbox("DELETE", "/_sandbox/booking_com/faults");
});

type Stub = DurableObjectStub<ChannelGate>;

async function setClock(gate: Stub, at: () => number) {
  await runInDurableObject(gate, (instance: ChannelGate) => {
    instance.clock = at;
  });
}

const mark = (
  gate: Stub,
  connectionId: string,
  from: number,
  to: number,
  aspects: Array<"availability" | "price"> = ["availability", "price"],
) =>
  gate.markDirty({
    tenantId: p.tenantId,
    connectionId,
    roomTypeId: p.roomTypeId,
    ranges: [{ start: addDaysUtc(from), end: addDaysUtc(to) }],
    aspects,
    causeKey: `test-${from}-${to}`,
    changedAt: Date.now(),
  });

/** Nights `from`..`to`: every other one closed, prices alternating, so no two neighbours merge. */
async function zebra(from: number, to: number) {
  const statements = [];
  for (let d = from; d <= to; d++) {
    statements.push(
      env.DB.prepare(
        `INSERT OR REPLACE INTO inventory_nights (tenant_id, room_type_id, night, capacity, booked, blocked, price_minor, updated_at)
         VALUES (?, ?, ?, 1, 0, ?, ?, ?)`,
      ).bind(p.tenantId, p.roomTypeId, addDaysUtc(d), d % 2, d % 2 ? 15000 : 16000, Date.now()),
    );
  }
  for (let i = 0; i < statements.length; i += 50) await env.DB.batch(statements.slice(i, i + 50));
}

interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  fault: string | null;
}

async function requests(platform: "airbnb" | "booking_com", since = 0): Promise<LoggedRequest[]> {
  const log = await sandbox<{ requests: LoggedRequest[] }>(
    "GET",
    `/_sandbox/${platform}/requests?limit=1000`,
  );
  return log.requests.filter((r) => r.at >= since);
}

const listingCalls = (rs: LoggedRequest[]) =>
  rs.filter((r) => r.path.includes(`/listings/${p.airbnb.listingId}/`));
const tokenCalls = (rs: LoggedRequest[]) => rs.filter((r) => r.path.endsWith("/oauth2/token"));

describe("rate limits", () => {
  it("a burst against Airbnb's enforced 10/s never meets a 429, and all of it arrives", async () => {
    await zebra(1, 200);
    await sandbox("POST", "/_sandbox/airbnb/faults", { enforce_rate_limit: true });
    const gate = env.CHANNEL_GATE.getByName(p.airbnb.connectionId);
    const since = Date.now();
    await mark(gate, p.airbnb.connectionId, 1, 200);
    // 200 alternating nights: 4 calendar + 4 pricing requests of 50 runs, plus the token mint.
    await eventually(
      async () => {
        await runDurableObjectAlarm(gate);
        return (await gate.status()).pendingNights === 0;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: "backlog pushed" },
    );
    const log = await requests("airbnb", since);
    const calls = listingCalls(log);
    expect(calls.map((c) => c.status)).toEqual(Array(8).fill(200));
    expect(log.filter((r) => r.status === 429)).toEqual([]);
    const days = await sandbox<{
      days: Array<{ date: string; available: boolean; price: string }>;
    }>(
      "GET",
      `/_sandbox/airbnb/listings/${p.airbnb.listingId}/calendar?start=${addDaysUtc(1)}&end=${addDaysUtc(200)}`,
    );
    expect(days.days.every((d, i) => d.available === ((i + 1) % 2 === 0))).toBe(true);
    expect(days.days.every((d, i) => d.price === ((i + 1) % 2 ? "150.00" : "160.00"))).toBe(true);
  });

  it(
    "Booking.com's 20/min: sends what the window allows, keeps the rest for the alarm, no 429",
    {
      timeout: 30_000,
    },
    async () => {
      await zebra(1, 364);
      await sandbox("POST", "/_sandbox/booking_com/faults", { enforce_rate_limit: true });
      const gate = env.CHANNEL_GATE.getByName(p.booking.connectionId);
      const since = Date.now();
      await mark(gate, p.booking.connectionId, 1, 364);
      const status = await gate.flushNow();
      const log = await requests("booking_com", since);
      const ari = log.filter((r) => r.path.includes("/ota/OTA_Hotel"));
      // 12 availability + 12 rate windows are needed; the window allows 20, 2 kept for inbound
      // calls, 5 for a booking's nights (urgent pushes), and the token mint counted too: 12
      // requests now, 12 later.
      expect(ari).toHaveLength(12);
      expect(log.filter((r) => r.status === 429)).toEqual([]);
      expect(status.pendingNights).toBeGreaterThan(0);
      // Held by the limiter is not a failure: no backoff, no error, due when a token returns.
      expect(status.consecutiveFailures).toBe(0);
      expect(status.lastError).toBeNull();
      expect(status.jobs[0]!.attempts).toBe(0);
      expect(status.rateLimit).toMatchObject({ capacity: 20, windowMs: 60_000, reserved: 2 });
      expect(status.rateLimit.callsInWindow).toBe(13);
      expect(status.jobs[0]!.dueAt).toBeGreaterThanOrEqual(since + 60_000);
      // Availability went first: only prices are left.
      expect(new Set(status.pending.map((x) => x.aspect))).toEqual(new Set(["price"]));
    },
  );

  it("Retry-After from the platform holds every call until then; a 429 is not a breaker failure", async () => {
    const gate = env.CHANNEL_GATE.getByName(p.airbnb.connectionId);
    const t0 = Date.now();
    await setClock(gate, () => t0);
    await mark(gate, p.airbnb.connectionId, 3, 3, ["availability"]);
    await gate.flushNow(); // token minted, night pushed
    await sandbox("POST", "/_sandbox/airbnb/faults", { rate_limit_next: 1, retry_after: 42 });
    await mark(gate, p.airbnb.connectionId, 4, 4, ["availability"]);
    const held = await gate.flushNow();
    expect(held.rateLimit.blockedUntil).toBe(t0 + 42_000);
    expect(held.circuit).toMatchObject({ state: "closed", consecutiveFailures: 0 });
    expect(held.pendingNights).toBe(1);
    expect(held.jobs[0]!.dueAt).toBeGreaterThanOrEqual(t0 + 42_000);

    const before = listingCalls(await requests("airbnb")).length;
    await setClock(gate, () => t0 + 41_000);
    await runDurableObjectAlarm(gate);
    expect(listingCalls(await requests("airbnb"))).toHaveLength(before); // still held
    await setClock(gate, () => t0 + 42_001);
    expect((await gate.flushNow()).pendingNights).toBe(0);
  });
});

describe("circuit breaker", () => {
  it("opens after 5 failures, holds work, lets one probe at a time, closes after 2 successes", async () => {
    const gate = env.CHANNEL_GATE.getByName(p.airbnb.connectionId);
    let now = Date.now();
    await setClock(gate, () => now);
    await mark(gate, p.airbnb.connectionId, 7, 7, ["availability"]);
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 5, fail_status: 503 });
    for (let i = 1; i <= 5; i++) {
      const s = await gate.flushNow();
      expect(s.circuit.state).toBe(i < 5 ? "closed" : "open");
      expect(s.circuit.consecutiveFailures).toBe(i);
    }
    const openedAt = now;
    const alert = await env.DB.prepare(`SELECT severity FROM alerts WHERE dedupe_key = ?`)
      .bind(`circuit_open:${p.airbnb.connectionId}`)
      .first();
    expect(alert).toEqual({ severity: "warning" });

    // While OPEN nothing leaves, whatever is marked; the work is kept.
    const sent = listingCalls(await requests("airbnb")).length;
    await mark(gate, p.airbnb.connectionId, 8, 8, ["price"]);
    now += 59_000;
    const open = await gate.flushNow();
    expect(listingCalls(await requests("airbnb"))).toHaveLength(sent);
    expect(open.circuit).toMatchObject({ state: "open", reopensAt: openedAt + 60_000, opens: 1 });
    expect(open.pendingNights).toBe(2);
    expect(open.jobs[0]!.dueAt).toBe(openedAt + 60_000);

    // After 60 s: HALF_OPEN. The platform has healed but answers slowly; a booking fetch arrives
    // while the flush's probe is out and has to wait for it.
    now = openedAt + 60_000;
    await sandbox("POST", "/_sandbox/airbnb/faults", { latency_ms: 300 });
    const healedAt = Date.now();
    const code = `HM${uniqueDigits(8)}`;
    const [first, pulled] = await Promise.all([
      gate.flushNow(),
      gate.pullBookings({
        tenantId: p.tenantId,
        connectionId: p.airbnb.connectionId,
        hint: { eventId: "e", eventType: "reservation.created", bookingRef: code },
      }),
    ]);
    expect(pulled.ok).toBe(false); // that reservation does not exist: 404, a permanent answer
    // Whichever call took the probe, the other could not leave with it: the fetch waited inside
    // the gate, or the push was held for the alarm (run here) once the probe had answered.
    const flushed = first.pendingNights > 0 ? await gate.flushNow() : first;
    const log = await requests("airbnb", healedAt);
    const after = listingCalls(log).concat(log.filter((r) => r.path.includes(`/${code}`)));
    expect(after.length).toBeGreaterThanOrEqual(2);
    const starts = after.map((r) => r.at).sort((a, b) => a - b);
    // One probe at a time: each of the first two calls left only after the previous answered.
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(290);
    expect(flushed.circuit).toMatchObject({ state: "closed", consecutiveFailures: 0, opens: 1 });
    expect(flushed.pendingNights).toBe(0);
    const days = await sandbox<{ days: Array<{ available: boolean; price: string }> }>(
      "GET",
      `/_sandbox/airbnb/listings/${p.airbnb.listingId}/calendar?start=${addDaysUtc(7)}&end=${addDaysUtc(8)}`,
    );
    expect(days.days.map((d) => d.available)).toEqual([true, true]);
  });

  it("HALF_OPEN → OPEN again when the probe fails", async () => {
    await env.DB.prepare(`UPDATE channel_connections SET gate_settings = ? WHERE id = ?`)
      .bind(
        JSON.stringify({ circuit: { failure_threshold: 2, open_seconds: 10 } }),
        p.airbnb.connectionId,
      )
      .run();
    const gate = env.CHANNEL_GATE.getByName(p.airbnb.connectionId);
    let now = Date.now();
    await setClock(gate, () => now);
    await mark(gate, p.airbnb.connectionId, 9, 9, ["availability"]);
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 3, fail_status: 502 });
    await gate.flushNow();
    expect((await gate.flushNow()).circuit.state).toBe("open");
    now += 10_000;
    const reopened = await gate.flushNow(); // the probe meets the third 502
    expect(reopened.circuit).toMatchObject({ state: "open", opens: 2, openedAt: now });
    expect(reopened.pendingNights).toBe(1);
  });

  it("a 4xx refusing our input is not a platform failure", async () => {
    const gate = env.CHANNEL_GATE.getByName(p.airbnb.connectionId);
    await mark(gate, p.airbnb.connectionId, 10, 10, ["availability"]);
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 6, fail_status: 422 });
    let s = await gate.flushNow();
    for (let i = 0; i < 5; i++) s = await gate.flushNow();
    expect(s.circuit).toMatchObject({ state: "closed", consecutiveFailures: 0 });
    expect(s.consecutiveFailures).toBe(6); // the push itself failed 6 times and is kept
    expect(s.pendingNights).toBe(1);
  });
});

describe("eviction", () => {
  it("in the middle of a rate-limited backlog loses nothing", { timeout: 30_000 }, async () => {
    await zebra(1, 364);
    const gate = env.CHANNEL_GATE.getByName(p.booking.connectionId);
    const t0 = Date.now();
    await setClock(gate, () => t0);
    await mark(gate, p.booking.connectionId, 1, 364);
    const first = await gate.flushNow();
    expect(first.pendingNights).toBeGreaterThan(0);

    await evictDurableObject(gate);
    const kept = await gate.status();
    expect(kept.pending).toEqual(first.pending);
    expect(kept.jobs).toEqual(first.jobs);
    expect(kept.rateLimit.callsInWindow).toBe(13);

    await setClock(gate, () => t0 + 61_000);
    await runDurableObjectAlarm(gate);
    expect((await gate.status()).pendingNights).toBe(0);
    const days = await sandbox<{ days: Array<{ available: boolean; price: string }> }>(
      "GET",
      `/_sandbox/booking_com/hotels/${p.booking.hotelId}/rooms/${p.booking.roomId}/calendar?start=${addDaysUtc(1)}&end=${addDaysUtc(364)}`,
    );
    expect(days.days).toHaveLength(364);
    expect(days.days.every((d, i) => d.available === ((i + 1) % 2 === 0))).toBe(true);
    expect(days.days.every((d, i) => d.price === ((i + 1) % 2 ? "150.00" : "160.00"))).toBe(true);
  });
});

describe("coalescing", () => {
  it("pending nights are the union of overlapping, adjacent and disjoint marks (property)", async () => {
    const range = fc
      .tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 8 }))
      .map(([s, len]) => ({ start: addDaysUtc(s), end: addDaysUtc(s + len) }));
    await fc.assert(
      fc.asyncProperty(fc.array(range, { minLength: 1, maxLength: 8 }), async (ranges) => {
        // A paused (and deleted, so it takes no platform slot) connection: its gate only keeps.
        const connectionId = `con_prop_${uniqueDigits(10)}`;
        await env.DB.prepare(
          `INSERT INTO channel_connections (id, tenant_id, property_id, platform, external_property_id, status,
             created_at, updated_at, deleted_at) VALUES (?, ?, ?, 'airbnb', ?, 'paused', 0, 0, 0)`,
        )
          .bind(connectionId, p.tenantId, p.propertyId, uniqueDigits(9))
          .run();
        const gate = env.CHANNEL_GATE.getByName(connectionId);
        for (const r of ranges) {
          await gate.markDirty({
            tenantId: p.tenantId,
            connectionId,
            roomTypeId: p.roomTypeId,
            ranges: [r],
            aspects: ["availability"],
            causeKey: "prop",
            changedAt: Date.now(),
          });
        }
        const status = await gate.status();
        expect(status.pending).toEqual([
          { roomTypeId: p.roomTypeId, aspect: "availability", ranges: coalesceRanges(ranges) },
        ]);
      }),
      { numRuns: 25 },
    );
  });

  it("waits for a quiet spell, but never longer than the max delay after the oldest change", async () => {
    await env.DB.prepare(`UPDATE channel_connections SET gate_settings = ? WHERE id = ?`)
      .bind(
        JSON.stringify({ coalesce: { quiet_ms: 500, max_delay_ms: 2000 } }),
        p.airbnb.connectionId,
      )
      .run();
    const gate = env.CHANNEL_GATE.getByName(p.airbnb.connectionId);
    const t0 = Date.now();
    let now = t0;
    await setClock(gate, () => now);
    const due = async () => (await gate.status()).jobs.find((j) => j.name === "flush")?.dueAt;
    await mark(gate, p.airbnb.connectionId, 2, 2);
    expect(await due()).toBe(t0 + 500);
    now = t0 + 300;
    await mark(gate, p.airbnb.connectionId, 5, 5);
    expect(await due()).toBe(t0 + 800);
    now = t0 + 1_900;
    await mark(gate, p.airbnb.connectionId, 9, 9);
    expect(await due()).toBe(t0 + 2_000);
    // Run early: nothing is due yet, nothing leaves.
    now = t0 + 1_950;
    await runDurableObjectAlarm(gate);
    expect((await gate.status()).pendingNights).toBe(3);
    now = t0 + 2_000;
    await runDurableObjectAlarm(gate);
    expect((await gate.status()).pendingNights).toBe(0);
  });
});

describe("tokens", () => {
  async function airbnbReservation(): Promise<string> {
    const { deliveries } = await sandbox<{ deliveries: Delivery[] }>(
      "POST",
      "/_sandbox/airbnb/reservations?deliver=none",
      { listing_id: p.airbnb.listingId, start_date: addDaysUtc(20), end_date: addDaysUtc(22) },
    );
    return (JSON.parse(deliveries[0]!.body) as { confirmation_code: string }).confirmation_code;
  }

  it(
    "two concurrent calls needing a token cause one refresh; the token survives eviction, encrypted",
    {
      timeout: 20_000,
    },
    async () => {
      const code = await airbnbReservation();
      const gate = env.CHANNEL_GATE.getByName(p.airbnb.connectionId);
      await sandbox("POST", "/_sandbox/airbnb/faults", { latency_ms: 200 });
      const since = Date.now();
      const hint = { eventId: "e", eventType: "reservation.created", bookingRef: code };
      const input = { tenantId: p.tenantId, connectionId: p.airbnb.connectionId, hint };
      const [a, b] = await Promise.all([gate.pullBookings(input), gate.pullBookings(input)]);
      expect([a.ok, b.ok]).toEqual([true, true]);
      // Other gates of earlier tests share the sandbox client: count this gate's own mints.
      const mints = () =>
        runInDurableObject(
          gate,
          (_i, state) =>
            state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM token_mints`).one().n,
        );
      expect(await mints()).toBe(1);
      expect(tokenCalls(await requests("airbnb", since)).length).toBeGreaterThanOrEqual(1);

      const stored = await runInDurableObject(gate, (_i, state) =>
        state.storage.sql
          .exec<{ name: string; ciphertext: string }>(`SELECT name, ciphertext FROM tokens`)
          .toArray(),
      );
      expect(stored.length).toBeGreaterThan(0);
      for (const row of stored) expect(row.ciphertext).toMatch(/^v1:k2:/);

      await evictDurableObject(gate);
      await sandbox("DELETE", "/_sandbox/airbnb/faults");
      expect((await gate.pullBookings(input)).ok).toBe(true);
      expect(await mints()).toBe(1);
    },
  );

  it("a refused refresh marks the connection expired and raises an alert, once", async () => {
    const { ciphertext, keyId } = await encryptCredentials(
      env,
      { tenantId: p.tenantId, connectionId: p.airbnb.connectionId },
      { refresh_token: "revoked-by-the-host" },
    );
    await env.DB.prepare(
      `UPDATE channel_connections SET credentials_ciphertext = ?, credentials_key_id = ? WHERE id = ?`,
    )
      .bind(ciphertext, keyId, p.airbnb.connectionId)
      .run();
    const gate = env.CHANNEL_GATE.getByName(p.airbnb.connectionId);
    const since = Date.now();
    await mark(gate, p.airbnb.connectionId, 4, 4, ["availability"]);
    const s = await gate.flushNow();
    const row = await env.DB.prepare(`SELECT status FROM channel_connections WHERE id = ?`)
      .bind(p.airbnb.connectionId)
      .first<{ status: string }>();
    expect(row?.status).toBe("expired");
    const alert = await env.DB.prepare(`SELECT kind, severity FROM alerts WHERE dedupe_key = ?`)
      .bind(`connection_expired:${p.airbnb.connectionId}`)
      .first();
    expect(alert).toEqual({ kind: "connection_expired", severity: "critical" });
    expect(s.pendingNights).toBe(1); // kept for when the host re-authorises
    expect(s.blockedReason).toContain("credentials refused");
    expect(s.jobs).toEqual([]); // no retry loop against a refusing token endpoint
    const log = await requests("airbnb", since);
    expect(tokenCalls(log).map((r) => r.status)).toEqual([400]);
    expect(listingCalls(log)).toEqual([]);
  });

  it("a 401 triggers one refresh and one retry; a second 401 stops there", async () => {
    const gate = env.CHANNEL_GATE.getByName(p.airbnb.connectionId);
    await mark(gate, p.airbnb.connectionId, 5, 5, ["availability"]);
    await gate.flushNow(); // a token exists
    let since = Date.now();
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 1, fail_status: 401 });
    await mark(gate, p.airbnb.connectionId, 6, 6, ["availability"]);
    expect((await gate.flushNow()).pendingNights).toBe(0);
    let log = (await requests("airbnb", since)).map((r) => `${r.method} ${r.status}`);
    expect(log).toEqual(["PUT 401", "POST 200", "PUT 200"]);

    since = Date.now();
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 5, fail_status: 401 });
    await mark(gate, p.airbnb.connectionId, 7, 7, ["availability"]);
    const s = await gate.flushNow();
    log = (await requests("airbnb", since)).map((r) => `${r.method} ${r.status}`);
    expect(log).toEqual(["PUT 401", "POST 200", "PUT 401"]);
    expect(s.pendingNights).toBe(1);
    const row = await env.DB.prepare(`SELECT status FROM channel_connections WHERE id = ?`)
      .bind(p.airbnb.connectionId)
      .first<{ status: string }>();
    expect(row?.status).toBe("expired");
  });
});
