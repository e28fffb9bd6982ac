import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fanOutTargets } from "../src/queue/outbound-consumer";
import type { NightsChangedMessage } from "../src/queue/messages";
import {
  addDaysUtc,
  deliver,
  eventually,
  sandbox,
  seedPortfolio,
  type Delivery,
  type Portfolio,
} from "./support/fixtures";

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
  it("pushes availability only to active connections that take it", async () => {
    const p = await seedPortfolio();
    expect((await fanOutTargets(env.DB, change(p, null))).map((t) => t.platform).sort()).toEqual([
      "airbnb",
      "booking_com",
    ]);
    await set(p.booking.connectionId, "sync_direction = 'inbound_only'");
    expect((await fanOutTargets(env.DB, change(p, null))).map((t) => t.platform)).toEqual([
      "airbnb",
    ]);
    await set(p.airbnb.connectionId, "sync_availability = 0");
    expect(await fanOutTargets(env.DB, change(p, null))).toEqual([]);
    await set(p.airbnb.connectionId, "sync_availability = 1, status = 'paused'");
    expect(await fanOutTargets(env.DB, change(p, null))).toEqual([]);
  });

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
