import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChannelGate } from "../../../../durable-objects/channel-gate";
import { addDaysUtc, sandbox, seedPortfolio, type Portfolio } from "../../../support/fixtures";

/**
 * The Idempotency-Key of a push names what it sends. The body is read from D1 at push time, so a
 * retry after a failed request carries the night's value as it is then: another value, another
 * key (Airbnb answers a reused key with another body 422 idempotency_key_reused); the same value,
 * the same key. Keys are read back from the Airbnb sandbox's request log.
 */

let p: Portfolio;
beforeEach(async () => {
  p = await seedPortfolio();
  await sandbox("DELETE", "/_sandbox/airbnb/faults");
});
afterEach(async () => {
  await sandbox("DELETE", "/_sandbox/airbnb/faults");
});

interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  idempotency_key: string | null;
}

async function calendarPuts(since: number): Promise<LoggedRequest[]> {
  const log = await sandbox<{ requests: LoggedRequest[] }>(
    "GET",
    "/_sandbox/airbnb/requests?limit=500",
  );
  return log.requests.filter(
    (r) =>
      r.at >= since &&
      r.method === "PUT" &&
      r.path === `/airbnb/v2/listings/${p.airbnb.listingId}/calendar`,
  );
}

const DAY = 12;

function gate() {
  return env.CHANNEL_GATE.getByName(p.airbnb.connectionId);
}

const mark = () =>
  gate().markDirty({
    tenantId: p.tenantId,
    connectionId: p.airbnb.connectionId,
    roomTypeId: p.roomTypeId,
    ranges: [{ start: addDaysUtc(DAY), end: addDaysUtc(DAY) }],
    aspects: ["availability"],
    causeKey: `idem-${Date.now()}`,
    changedAt: Date.now(),
  });

/** Set the night's booked count in D1 directly: the truth changes, nobody marks it. */
const setBooked = (booked: number) =>
  env.DB.prepare(
    `INSERT INTO inventory_nights (tenant_id, room_type_id, night, capacity, booked, blocked, updated_at)
     VALUES (?, ?, ?, 1, ?, 0, ?)
     ON CONFLICT DO UPDATE SET booked = excluded.booked, updated_at = excluded.updated_at`,
  )
    .bind(p.tenantId, p.roomTypeId, addDaysUtc(DAY), booked, Date.now())
    .run();

/** Fail the first push with a 503, then run the retry (the alarm, past the backoff). */
async function failThenRetry(between: () => Promise<unknown>) {
  await sandbox("POST", "/_sandbox/airbnb/faults", {
    fail_next: 1,
    fail_status: 503,
    fault_path: "/calendar",
  });
  expect((await gate().flushNow()).consecutiveFailures).toBe(1);
  await between();
  await runInDurableObject(gate(), (instance: ChannelGate) => {
    const realNow = Date.now;
    instance.clock = () => realNow() + 60_000;
  });
  await runDurableObjectAlarm(gate());
  expect((await gate().status()).pendingNights).toBe(0);
}

async function airbnbNight() {
  const { days } = await sandbox<{ days: Array<{ available: boolean }> }>(
    "GET",
    `/_sandbox/airbnb/listings/${p.airbnb.listingId}/calendar?start=${addDaysUtc(DAY)}&end=${addDaysUtc(DAY)}`,
  );
  return days[0]!.available;
}

describe("ChannelGate: Idempotency-Keys name the request's content", () => {
  it("a retry whose body changed (the night changed, no new mark) carries a new key", async () => {
    const since = Date.now();
    await mark();
    await failThenRetry(() => setBooked(1));
    const puts = await calendarPuts(since);
    expect(puts.map((r) => r.status)).toEqual([503, 200]);
    expect(puts[0]!.idempotency_key).toMatch(/^[0-9a-f]{32}$/);
    expect(puts[1]!.idempotency_key).not.toBe(puts[0]!.idempotency_key);
    expect(await airbnbNight()).toBe(false);
  });

  it("a retry of the same body under the same marks repeats the key", async () => {
    const since = Date.now();
    await setBooked(1);
    await mark();
    await failThenRetry(async () => null);
    const puts = await calendarPuts(since);
    expect(puts.map((r) => r.status)).toEqual([503, 200]);
    expect(puts[1]!.idempotency_key).toBe(puts[0]!.idempotency_key);
  });

  it("a night closed, opened and closed again is applied each time, not answered from memory", async () => {
    // The platform keeps a key for a day: a key of the content alone would make the third push
    // (the same body as the first) a replay that changes nothing, leaving the night open.
    const since = Date.now();
    for (const booked of [1, 0, 1]) {
      await setBooked(booked);
      await mark();
      expect((await gate().flushNow()).pendingNights).toBe(0);
      expect(await airbnbNight()).toBe(booked === 0);
    }
    const keys = (await calendarPuts(since)).map((r) => r.idempotency_key);
    expect(new Set(keys).size).toBe(3);
  });
});
