import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { ChannelGate } from "../../../../durable-objects/channel-gate";
import { meteredD1, newMeter } from "../../../../src/store/d1-meter";
import { tokenFor } from "../../api/operator-fixtures";
import {
  addDaysUtc,
  deliver,
  eventually,
  sandbox,
  seedPortfolio,
  SELF_FETCH,
  setGateSettings,
  uniqueDigits,
  type Delivery,
  type Portfolio,
} from "../../../support/fixtures";

/**
 * A sold night jumps the queue. A booking's nights reach the gates marked urgent; a flush sends
 * urgent availability before anything else, on tokens bulk pushes leave; and it plans only the
 * calls that may leave now, so a year of backlog on a 40-room-type hotel costs a few D1 reads.
 */

let p: Portfolio;
beforeEach(async () => {
  p = await seedPortfolio();
});

const ROOM_TYPES = 40;

/** The portfolio's hotel with `n` room types in all, each mapped (room and rate plan). */
async function seedHotel(n: number): Promise<Array<{ roomTypeId: string; roomId: string }>> {
  const rooms = [{ roomTypeId: p.roomTypeId, roomId: p.booking.roomId }];
  const now = Date.now();
  const statements: D1PreparedStatement[] = [];
  for (let i = 1; i < n; i++) {
    const roomTypeId = `${p.roomTypeId}_${i}`;
    const ratePlanId = `rp_${roomTypeId}`;
    const room = { roomTypeId, roomId: uniqueDigits(9) };
    const externalRate = uniqueDigits(8);
    rooms.push(room);
    const mapping = (type: string, internal: string, external: string) =>
      env.DB.prepare(
        `INSERT INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id,
           external_id, created_at, updated_at) VALUES (?, ?, ?, 'booking_com', ?, ?, ?, ?, ?)`,
      ).bind(
        `map_${type}_${roomTypeId}`,
        p.tenantId,
        p.booking.connectionId,
        type,
        internal,
        external,
        now,
        now,
      );
    statements.push(
      env.DB.prepare(
        `INSERT INTO room_types (id, tenant_id, property_id, name, units, base_price_minor, currency, created_at)
         VALUES (?, ?, ?, ?, 1, 12000, 'EUR', ?)`,
      ).bind(roomTypeId, p.tenantId, p.propertyId, `Room ${i}`, now),
      env.DB.prepare(
        `INSERT INTO rate_plans (id, tenant_id, property_id, room_type_id, name, created_at)
         VALUES (?, ?, ?, ?, 'Standard', ?)`,
      ).bind(ratePlanId, p.tenantId, p.propertyId, roomTypeId, now),
      mapping("room_type", roomTypeId, room.roomId),
      mapping("rate_plan", ratePlanId, externalRate),
    );
    await sandbox("PUT", `/_sandbox/booking_com/hotels/${p.booking.hotelId}/rooms/${room.roomId}`, {
      units: 1,
      rate_plan_id: externalRate,
    });
  }
  for (let i = 0; i < statements.length; i += 50) await env.DB.batch(statements.slice(i, i + 50));
  return rooms;
}

function bookingGate() {
  return env.CHANNEL_GATE.getByName(p.booking.connectionId);
}

/** A year of availability and prices pending on every room type. */
async function markYear(rooms: Array<{ roomTypeId: string }>) {
  for (const r of rooms) {
    await bookingGate().markDirty({
      tenantId: p.tenantId,
      connectionId: p.booking.connectionId,
      roomTypeId: r.roomTypeId,
      ranges: [{ start: addDaysUtc(1), end: addDaysUtc(364) }],
      causeKey: `bulk-${r.roomTypeId}`,
      changedAt: Date.now(),
    });
  }
}

async function ariSince(since: number) {
  const { received } = await sandbox<{
    received: Array<{ at: number; path: string; body: string }>;
  }>("GET", "/_sandbox/booking_com/received?limit=100");
  return received.filter(
    (r) =>
      r.at >= since &&
      /OTA_Hotel(Avail|RateAmount)Notif$/.test(r.path) &&
      r.body.includes(`HotelCode="${p.booking.hotelId}"`),
  );
}

describe("a sold night jumps the queue", () => {
  it("a booking's nights reach the gates urgent; the owner's calendar changes do not", async () => {
    // Paused: the gate keeps what it is handed, so the test can read it.
    await env.DB.prepare(`UPDATE channel_connections SET status = 'paused' WHERE id = ?`)
      .bind(p.booking.connectionId)
      .run();
    const { deliveries } = await sandbox<{ deliveries: Delivery[] }>(
      "POST",
      "/_sandbox/airbnb/reservations?deliver=none",
      { listing_id: p.airbnb.listingId, start_date: addDaysUtc(44), end_date: addDaysUtc(46) },
    );
    expect((await deliver(deliveries[0]!)).status).toBe(202);
    const admin = await tokenFor(p.tenantId);
    const res = await SELF_FETCH(`http://engine.test/api/v1/room-types/${p.roomTypeId}/calendar`, {
      method: "PUT",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ nights: [{ date: addDaysUtc(50), blocked: 1 }] }),
    });
    expect(res.status).toBe(200);
    const rows = await eventually(
      async () => {
        const r = await runInDurableObject(bookingGate(), (_gate, state) =>
          state.storage.sql
            .exec<{ night: string; aspect: string; urgent: number }>(
              `SELECT night, aspect, urgent FROM pending_nights ORDER BY night`,
            )
            .toArray(),
        );
        return r.length === 3 && r;
      },
      { what: "the booking's and the calendar's nights kept by the paused gate" },
    );
    expect(rows.map((r) => [r.night, r.aspect, r.urgent])).toEqual([
      [addDaysUtc(44), "availability", 1],
      [addDaysUtc(45), "availability", 1],
      [addDaysUtc(50), "availability", 0],
    ]);
  });

  it(
    "with a year pending on 40 room types and a small limit, a booking's night leaves in the next call",
    { timeout: 60_000 },
    async () => {
      const rooms = await seedHotel(ROOM_TYPES);
      await setGateSettings(p.booking.connectionId, {
        rate_limit: { capacity: 4, window_seconds: 60 },
        coalesce: { quiet_ms: 60_000, max_delay_ms: 60_000 },
      });
      await markYear(rooms);
      const first = await bookingGate().flushNow();
      // 4 a minute: 1 kept for inbound calls, 1 for urgent pushes, so the backlog got 2 at most.
      expect(first.rateLimit.callsInWindow).toBeLessThanOrEqual(2);
      expect(first.pendingNights).toBeGreaterThan(ROOM_TYPES * 360);

      // A booking sells night 200 of the 25th room type (its ledger says so; the outbox says urgent).
      const sold = rooms[24]!;
      await env.DB.prepare(
        `INSERT INTO inventory_nights (tenant_id, room_type_id, night, capacity, booked, blocked, updated_at)
         VALUES (?, ?, ?, 1, 1, 0, ?)`,
      )
        .bind(p.tenantId, sold.roomTypeId, addDaysUtc(200), Date.now())
        .run();
      const since = Date.now();
      await bookingGate().markDirty({
        tenantId: p.tenantId,
        connectionId: p.booking.connectionId,
        roomTypeId: sold.roomTypeId,
        ranges: [{ start: addDaysUtc(200), end: addDaysUtc(200) }],
        aspects: ["availability"],
        urgent: true,
        causeKey: "booking",
        changedAt: Date.now(),
      });
      const after = await bookingGate().flushNow();
      const sent = await ariSince(since);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.path).toMatch(/OTA_HotelAvailNotif$/);
      expect(sent[0]!.body).toContain(`InvTypeCode="${sold.roomId}"`);
      expect(sent[0]!.body).toContain(`Start="${addDaysUtc(200)}" End="${addDaysUtc(200)}"`);
      expect(sent[0]!.body).toContain('Status="Close"');
      // The backlog is still there, waiting for its own tokens.
      expect(after.pendingNights).toBeGreaterThan(ROOM_TYPES * 360);
      expect(after.jobs).toHaveLength(1);
    },
  );

  it(
    "a flush under that backlog reads D1 only for the calls that may leave (a handful, not 85)",
    { timeout: 60_000 },
    async () => {
      const rooms = await seedHotel(ROOM_TYPES);
      await setGateSettings(p.booking.connectionId, {
        coalesce: { quiet_ms: 60_000, max_delay_ms: 60_000 },
      });
      await markYear(rooms);
      const since = Date.now();
      const meter = newMeter();
      const status = await runInDurableObject(bookingGate(), async (gate: ChannelGate) => {
        gate.d1 = meteredD1(env.DB, meter);
        try {
          return await gate.flushNow();
        } finally {
          gate.d1 = null;
        }
      });
      // Booking.com's 20 a minute, less 2 for inbound calls and 5 for urgent pushes: 13 calls
      // (the first room type's 12 availability windows and one of the next), and for them the
      // connection, its mappings, two room types' nights and the sync log.
      const sent = await ariSince(since);
      expect(sent.length).toBeGreaterThanOrEqual(12);
      expect(sent.length).toBeLessThanOrEqual(13);
      expect(meter.calls).toBeLessThanOrEqual(12);
      expect(status.pendingNights).toBeGreaterThan((ROOM_TYPES - 2) * 364);
    },
  );
});
