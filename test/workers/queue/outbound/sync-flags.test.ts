import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fanOutTargets } from "../../../../src/queue/outbound";
import type { NightsChangedMessage } from "../../../../src/queue/messages";
import { tokenFor } from "../../api/operator-fixtures";
import {
  addDaysUtc,
  deliver,
  eventually,
  sandbox,
  seedPortfolio,
  SELF_FETCH,
  type Delivery,
  type Portfolio,
} from "../../../support/fixtures";

const set = (connectionId: string, sql: string) =>
  env.DB.prepare(`UPDATE channel_connections SET ${sql} WHERE id = ?`).bind(connectionId).run();

const change = (
  p: Portfolio,
  source: NightsChangedMessage["sourcePlatform"],
): NightsChangedMessage => ({
  v: 1,
  kind: "nights.changed",
  tenantId: p.tenantId,
  propertyId: p.propertyId,
  roomTypeId: p.roomTypeId,
  ranges: [{ start: addDaysUtc(5), end: addDaysUtc(6) }],
  sourcePlatform: source,
  includeSource: false,
  causeKey: "k",
  aspects: ["availability", "price"],
  changedAt: Date.now(),
});

describe("the engine honours each connection's sync direction and flags", () => {
  it("hands every live connection's gate the change but the source's, inactive ones included", async () => {
    const p = await seedPortfolio();
    const platforms = async (source: NightsChangedMessage["sourcePlatform"] = null) =>
      (await fanOutTargets(env.DB, change(p, source))).map((t) => t.platform).sort();
    expect(await platforms()).toEqual(["airbnb", "booking_com"]);
    expect(await platforms("airbnb")).toEqual(["booking_com"]);
    // Inactive connections keep the marks (their gates send nothing), so they catch up later.
    await set(p.booking.connectionId, "sync_direction = 'inbound_only'");
    await set(p.airbnb.connectionId, "sync_availability = 0, status = 'paused'");
    expect(await platforms()).toEqual(["airbnb", "booking_com"]);
    // A deleted connection takes nothing.
    await set(p.booking.connectionId, `deleted_at = ${Date.now()}`);
    expect(await platforms()).toEqual(["airbnb"]);
  });

  it.each([
    ["paused", "status = 'paused'", { status: "active" }],
    ["expired", "status = 'expired'", { status: "active" }],
    ["inbound-only", "sync_direction = 'inbound_only'", { sync_direction: "bidirectional" }],
    ["with availability sync off", "sync_availability = 0", { sync_availability: true }],
  ] as const)(
    "a connection %s while a booking came in shows it closed once it is back",
    async (_, off, on) => {
      const p = await seedPortfolio();
      await set(p.booking.connectionId, off);
      const { deliveries } = await sandbox<{ deliveries: Delivery[] }>(
        "POST",
        "/_sandbox/airbnb/reservations?deliver=none",
        { listing_id: p.airbnb.listingId, start_date: addDaysUtc(44), end_date: addDaysUtc(46) },
      );
      expect((await deliver(deliveries[0]!)).status).toBe(202);
      const closedOnBooking = async () =>
        (
          await sandbox<{ days: Array<{ available: boolean }> }>(
            "GET",
            `/_sandbox/booking_com/hotels/${p.booking.hotelId}/rooms/${p.booking.roomId}/calendar?start=${addDaysUtc(44)}&end=${addDaysUtc(45)}`,
          )
        ).days.filter((d) => !d.available).length;
      // The booking is in, its change reached the gate, and nothing went to Booking.com meanwhile.
      const gate = env.CHANNEL_GATE.getByName(p.booking.connectionId);
      await eventually(async () => (await gate.status()).pendingNights >= 2, {
        what: "the change kept by the inactive connection's gate",
      });
      expect(await closedOnBooking()).toBe(0);
      const admin = await tokenFor(p.tenantId);
      const res = await SELF_FETCH(
        `http://engine.test/api/v1/channel-connections/${p.booking.connectionId}`,
        {
          method: "PATCH",
          headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
          body: JSON.stringify(on),
        },
      );
      expect(res.status).toBe(200);
      await eventually(async () => (await closedOnBooking()) === 2, {
        what: "the missed nights closed on Booking.com",
      });
    },
  );

  it("does not import bookings on a connection with booking sync off or outbound_only, and says why", async () => {
    for (const flag of ["sync_bookings = 0", "sync_direction = 'outbound_only'"]) {
      const p = await seedPortfolio();
      await set(p.airbnb.connectionId, flag);
      const { reservation, deliveries } = await sandbox<{
        reservation: { confirmation_code: string };
        deliveries: Delivery[];
      }>("POST", "/_sandbox/airbnb/reservations?deliver=none", {
        listing_id: p.airbnb.listingId,
        start_date: addDaysUtc(12),
        end_date: addDaysUtc(13),
      });
      expect((await deliver(deliveries[0]!)).status).toBe(202);
      const key = `airbnb:${JSON.parse(deliveries[0]!.body).event_id}`;
      const event = await eventually(
        () =>
          env.DB.prepare(
            `SELECT status, outcome FROM channel_events WHERE idempotency_key = ? AND status = 'ignored'`,
          )
            .bind(key)
            .first<{ status: string; outcome: string }>(),
        { what: `ignored (${flag})` },
      );
      expect(event.outcome).toMatch(/booking sync turned off|outbound_only/);
      const n = await env.DB.prepare(
        `SELECT count(*) AS n FROM bookings WHERE channel_booking_id = ?`,
      )
        .bind(reservation.confirmation_code)
        .first<{ n: number }>();
      expect(n?.n).toBe(0);
    }
  });

  it("pushes prices only where price sync is on", async () => {
    const p = await seedPortfolio();
    await set(p.booking.connectionId, "sync_pricing = 0");
    const gate = env.CHANNEL_GATE.getByName(p.booking.connectionId);
    await gate.markDirty({
      tenantId: p.tenantId,
      connectionId: p.booking.connectionId,
      roomTypeId: p.roomTypeId,
      ranges: [{ start: addDaysUtc(8), end: addDaysUtc(8) }],
      causeKey: "price",
      changedAt: Date.now(),
    });
    await gate.flushNow();
    const received = (
      await sandbox<{ received: Array<{ path: string; body: string }> }>(
        "GET",
        "/_sandbox/booking_com/received?limit=200",
      )
    ).received.filter((r) => r.body.includes(`HotelCode="${p.booking.hotelId}"`));
    expect(received.map((r) => r.path.split("/").pop())).toEqual(["OTA_HotelAvailNotif"]);
  });
});
