import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { ChannelGate } from "../../../../durable-objects/channel-gate";
import { beforeEach, describe, expect, it } from "vitest";
import { tokenFor } from "../../api/operator-fixtures";
import {
  addDaysUtc,
  eventually,
  sandbox,
  seedPortfolio,
  SELF_FETCH,
  type Portfolio,
} from "../../../support/fixtures";

let p: Portfolio;
beforeEach(async () => {
  p = await seedPortfolio();
});

const setStatus = (connectionId: string, status: string) =>
  env.DB.prepare(`UPDATE channel_connections SET status = ? WHERE id = ?`)
    .bind(status, connectionId)
    .run();

async function bookingComDays(start: string, end: string) {
  const cal = await sandbox<{
    days: Array<{
      date: string;
      available: boolean;
      rooms_to_sell?: number;
      updated_at: number | null;
    }>;
  }>(
    "GET",
    `/_sandbox/booking_com/hotels/${p.booking.hotelId}/rooms/${p.booking.roomId}/calendar?start=${start}&end=${end}`,
  );
  return cal.days;
}

/** This hotel's availability pushes as the sandbox received them (other files share it). */
async function availNotifsForHotel() {
  const { received } = await sandbox<{ received: Array<{ path: string; body: string }> }>(
    "GET",
    "/_sandbox/booking_com/received?limit=200",
  );
  return received.filter(
    (r) =>
      r.path.endsWith("OTA_HotelAvailNotif") && r.body.includes(`HotelCode="${p.booking.hotelId}"`),
  );
}

async function claimNights(from: number, to: number) {
  for (let d = from; d < to; d++) {
    await env.DB.prepare(
      `INSERT INTO inventory_nights (tenant_id, room_type_id, night, capacity, booked, blocked, updated_at)
       VALUES (?, ?, ?, 1, 1, 0, ?)`,
    )
      .bind(p.tenantId, p.roomTypeId, addDaysUtc(d), Date.now())
      .run();
  }
}

describe("ChannelGate", () => {
  it("keeps pending nights in its storage across eviction and pushes them afterwards", async () => {
    const gate = env.CHANNEL_GATE.getByName(p.booking.connectionId);
    await setStatus(p.booking.connectionId, "paused");
    await gate.markDirty({
      tenantId: p.tenantId,
      connectionId: p.booking.connectionId,
      roomTypeId: p.roomTypeId,
      ranges: [{ start: addDaysUtc(5), end: addDaysUtc(7) }],
      causeKey: "test",
      changedAt: Date.now(),
    });
    await runDurableObjectAlarm(gate);
    expect((await gate.status()).pendingNights).toBe(3);
    expect((await gate.status()).blockedReason).toContain("paused");

    await evictDurableObject(gate);
    const after = await gate.status();
    expect(after.pendingNights).toBe(3);
    const ranges = [{ start: addDaysUtc(5), end: addDaysUtc(7) }];
    expect(after.pending).toEqual([
      { roomTypeId: p.roomTypeId, aspect: "availability", ranges },
      { roomTypeId: p.roomTypeId, aspect: "price", ranges },
    ]);

    await claimNights(5, 7);
    await setStatus(p.booking.connectionId, "active");
    const flushed = await gate.flushNow();
    expect(flushed.pendingNights).toBe(0);
    const days = await bookingComDays(addDaysUtc(5), addDaysUtc(7));
    expect(days.map((d) => [d.date, d.available])).toEqual([
      [addDaysUtc(5), false],
      [addDaysUtc(6), false],
      [addDaysUtc(7), true],
    ]);
  });

  it("reads the state at push time: several marks become one push of the current truth", async () => {
    const gate = env.CHANNEL_GATE.getByName(p.booking.connectionId);
    await setStatus(p.booking.connectionId, "paused");
    for (const [s, e] of [
      [3, 4],
      [4, 6],
      [10, 10],
      [9, 9],
    ] as const) {
      await gate.markDirty({
        tenantId: p.tenantId,
        connectionId: p.booking.connectionId,
        roomTypeId: p.roomTypeId,
        ranges: [{ start: addDaysUtc(s), end: addDaysUtc(e) }],
        causeKey: `k${s}`,
        changedAt: Date.now(),
      });
    }
    expect((await gate.status()).pending[0]?.ranges).toEqual([
      { start: addDaysUtc(3), end: addDaysUtc(6) },
      { start: addDaysUtc(9), end: addDaysUtc(10) },
    ]);
    await setStatus(p.booking.connectionId, "active");
    expect(await availNotifsForHotel()).toHaveLength(0);
    await gate.flushNow();
    const pushes = await availNotifsForHotel();
    expect(pushes).toHaveLength(1);
  });

  it("keeps work and retries later when the platform fails", async () => {
    const gate = env.CHANNEL_GATE.getByName(p.booking.connectionId);
    await sandbox("POST", "/_sandbox/booking_com/faults", { fail_next: 1, fail_status: 503 });
    await setStatus(p.booking.connectionId, "paused");
    await gate.markDirty({
      tenantId: p.tenantId,
      connectionId: p.booking.connectionId,
      roomTypeId: p.roomTypeId,
      ranges: [{ start: addDaysUtc(2), end: addDaysUtc(2) }],
      causeKey: "x",
      changedAt: Date.now(),
    });
    await setStatus(p.booking.connectionId, "active");
    const failed = await gate.flushNow();
    expect(failed.pendingNights).toBe(1);
    expect(failed.consecutiveFailures).toBe(1);
    expect(failed.jobs).toHaveLength(1);
    // The retry is driven by the alarm; move the clock past the backoff and run it.
    await runInDurableObject(gate, (instance: ChannelGate) => {
      const realNow = Date.now;
      instance.clock = () => realNow() + 60_000;
    });
    await runDurableObjectAlarm(gate);
    const ok = await gate.status();
    expect(ok.pendingNights).toBe(0);
    expect(ok.consecutiveFailures).toBe(0);
    await sandbox("DELETE", "/_sandbox/booking_com/faults");
  });

  it("does not send a night again when its value is what the gate last pushed there", async () => {
    const gate = env.CHANNEL_GATE.getByName(p.booking.connectionId);
    const mark = (start: number, end: number, extra: { force?: boolean } = {}) =>
      gate.markDirty({
        tenantId: p.tenantId,
        connectionId: p.booking.connectionId,
        roomTypeId: p.roomTypeId,
        ranges: [{ start: addDaysUtc(start), end: addDaysUtc(end) }],
        aspects: ["availability"],
        causeKey: `m${start}`,
        changedAt: Date.now(),
        ...extra,
      });
    const pushes = async () => (await availNotifsForHotel()).length;
    const setBooked = (day: number, booked: number) =>
      env.DB.prepare(
        `INSERT INTO inventory_nights (tenant_id, room_type_id, night, capacity, booked, blocked, updated_at)
         VALUES (?, ?, ?, 1, ?, 0, ?)
         ON CONFLICT DO UPDATE SET booked = excluded.booked, updated_at = excluded.updated_at`,
      )
        .bind(p.tenantId, p.roomTypeId, addDaysUtc(day), booked, Date.now())
        .run();

    await setBooked(20, 1);
    await mark(20, 21);
    await gate.flushNow();
    expect(await pushes()).toBe(1);

    // A late mark for the change that push already carried: nothing to send, nothing left.
    await mark(20, 21);
    const late = await gate.flushNow();
    expect(late.pendingNights).toBe(0);
    expect(await pushes()).toBe(1);

    // Night 21 changes (20 is marked again, unchanged): one request, for the changed night only.
    await setBooked(21, 1);
    await mark(20, 21);
    await gate.flushNow();
    expect(await pushes()).toBe(2);
    const body = (await availNotifsForHotel()).at(-1)!.body;
    expect(body).toContain(`Start="${addDaysUtc(21)}"`);
    expect(body).not.toContain(`Start="${addDaysUtc(20)}"`);

    // Forced (drift repair, resync): sent although unchanged.
    await mark(20, 20, { force: true });
    await gate.flushNow();
    expect(await pushes()).toBe(3);

    // A request that failed may or may not have been applied: night 20 goes free, the push
    // fails; it is booked again before the retry. The platform might show it free, so the
    // value it had before is sent again rather than trusted.
    await setBooked(20, 0);
    await mark(20, 20);
    await sandbox("POST", "/_sandbox/booking_com/faults", { fail_next: 1, fail_status: 503 });
    expect((await gate.flushNow()).consecutiveFailures).toBe(1);
    await sandbox("DELETE", "/_sandbox/booking_com/faults");
    const beforeRetry = await pushes();
    await setBooked(20, 1);
    await mark(20, 20);
    await runInDurableObject(gate, (instance: ChannelGate) => {
      const realNow = Date.now;
      instance.clock = () => realNow() + 60_000;
    });
    await runDurableObjectAlarm(gate);
    expect((await gate.status()).pendingNights).toBe(0);
    const closed = await bookingComDays(addDaysUtc(20), addDaysUtc(20));
    expect(closed.map((d) => d.available)).toEqual([false]);
    expect(await pushes()).toBe(beforeRetry + 1);
    expect((await availNotifsForHotel()).at(-1)!.body).toContain(`Start="${addDaysUtc(20)}"`);
  });

  it("keeps prices changed while price sync is off and sends them once it is on again", async () => {
    await env.DB.prepare(`UPDATE channel_connections SET sync_pricing = 0 WHERE id = ?`)
      .bind(p.booking.connectionId)
      .run();
    const admin = await tokenFor(p.tenantId);
    const api = (method: string, path: string, body: unknown) =>
      SELF_FETCH(`http://engine.test/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const night = addDaysUtc(15);
    const changed = await api("PUT", `/room-types/${p.roomTypeId}/calendar`, {
      nights: [{ date: night, price_minor: 15500 }],
    });
    expect(changed.status).toBe(200);

    // The change reached the gate, which holds it and sends nothing while price sync is off.
    const gate = env.CHANNEL_GATE.getByName(p.booking.connectionId);
    // Its alarm has run: the flush kept the price and left no job (nothing it may send).
    await eventually(
      async () => {
        const s = await gate.status();
        return s.pending.some((x) => x.aspect === "price") && s.jobs.length === 0;
      },
      { what: "the price change held by the gate" },
    );
    const priceOn = async () =>
      (await bookingComDays(night, night))[0] as unknown as { price: string | null };
    const { received } = await sandbox<{ received: Array<{ path: string; body: string }> }>(
      "GET",
      "/_sandbox/booking_com/received?limit=200",
    );
    expect(
      received.filter(
        (r) =>
          r.path.endsWith("OTA_HotelRateAmountNotif") &&
          r.body.includes(`HotelCode="${p.booking.hotelId}"`),
      ),
    ).toEqual([]);

    const res = await api("PATCH", `/channel-connections/${p.booking.connectionId}`, {
      sync_pricing: true,
    });
    expect(res.status).toBe(200);
    await eventually(async () => (await priceOn()).price === "155.00", {
      what: "the price kept while price sync was off on Booking.com",
    });
    expect((await gate.status()).pendingNights).toBe(0);
  });
});
