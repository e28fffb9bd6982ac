import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  addDaysUtc,
  deliver,
  eventually,
  sandbox,
  seedPortfolio,
  type Delivery,
  type Portfolio,
} from "../support/fixtures";

type Day = { date: string; available: boolean };

const bookingComCalendar = async (p: Portfolio, from: number, to: number) =>
  (
    await sandbox<{ days: Day[] }>(
      "GET",
      `/_sandbox/booking_com/hotels/${p.booking.hotelId}/rooms/${p.booking.roomId}/calendar?start=${addDaysUtc(from)}&end=${addDaysUtc(to)}`,
    )
  ).days;
const airbnbCalendar = async (p: Portfolio, from: number, to: number) =>
  (
    await sandbox<{ days: Day[] }>(
      "GET",
      `/_sandbox/airbnb/listings/${p.airbnb.listingId}/calendar?start=${addDaysUtc(from)}&end=${addDaysUtc(to)}`,
    )
  ).days;
const closed = (days: Day[]) => days.filter((d) => !d.available).map((d) => d.date);
const range = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => addDaysUtc(from + i));

async function bookingRow(channelBookingId: string) {
  return env.DB.prepare(
    `SELECT status, check_in, check_out FROM bookings WHERE channel_booking_id = ?`,
  )
    .bind(channelBookingId)
    .first<{ status: string; check_in: string; check_out: string }>();
}

describe("end to end through real queues, D1, the ChannelGate and the sandbox", () => {
  it("closes on Booking.com the nights a guest books on Airbnb, and never echoes to Airbnb", async () => {
    const p = await seedPortfolio();
    const { reservation, deliveries } = await sandbox<{
      reservation: { confirmation_code: string };
      deliveries: Delivery[];
    }>("POST", "/_sandbox/airbnb/reservations?deliver=none", {
      listing_id: p.airbnb.listingId,
      start_date: addDaysUtc(20),
      end_date: addDaysUtc(23),
      guest_name: "Grace Hopper",
    });
    expect((await deliver(deliveries[0]!)).status).toBe(202);
    await eventually(
      async () => (await bookingRow(reservation.confirmation_code))?.status === "confirmed",
      { what: "booking in D1" },
    );
    await eventually(async () => closed(await bookingComCalendar(p, 19, 24)).length === 3, {
      what: "nights closed on Booking.com",
    });
    expect(closed(await bookingComCalendar(p, 19, 24))).toEqual(range(20, 23));
    const airbnbPuts = (
      await sandbox<{ requests: Array<{ path: string }> }>(
        "GET",
        "/_sandbox/airbnb/requests?limit=500",
      )
    ).requests.filter((r) => r.path.includes(`/listings/${p.airbnb.listingId}/calendar`));
    expect(airbnbPuts).toEqual([]);
  });

  it("moves nights on Airbnb when a Booking.com booking is modified, and reopens them on cancellation", async () => {
    const p = await seedPortfolio();
    const created = await sandbox<{
      reservation: { reservation_id: string };
      deliveries: Delivery[];
    }>("POST", "/_sandbox/booking_com/reservations?deliver=none", {
      hotel_id: p.booking.hotelId,
      room_id: p.booking.roomId,
      start_date: addDaysUtc(30),
      end_date: addDaysUtc(32),
    });
    const id = created.reservation.reservation_id;
    expect((await deliver(created.deliveries[0]!)).status).toBe(202);
    await eventually(async () => closed(await airbnbCalendar(p, 29, 36)).length === 2, {
      what: "closed on Airbnb",
    });

    const modified = await sandbox<{ deliveries: Delivery[] }>(
      "POST",
      `/_sandbox/booking_com/reservations/${id}/modify?deliver=none`,
      {
        start_date: addDaysUtc(33),
        end_date: addDaysUtc(35),
      },
    );
    expect((await deliver(modified.deliveries[0]!)).status).toBe(202);
    await eventually(
      async () =>
        JSON.stringify(closed(await airbnbCalendar(p, 29, 36))) === JSON.stringify(range(33, 35)),
      {
        what: "nights moved on Airbnb",
      },
    );
    expect((await bookingRow(id))?.check_in).toBe(addDaysUtc(33));

    const cancelled = await sandbox<{ deliveries: Delivery[] }>(
      "POST",
      `/_sandbox/booking_com/reservations/${id}/cancel?deliver=none`,
    );
    expect((await deliver(cancelled.deliveries[0]!)).status).toBe(202);
    await eventually(async () => closed(await airbnbCalendar(p, 29, 36)).length === 0, {
      what: "reopened on Airbnb",
    });
    expect((await bookingRow(id))?.status).toBe("cancelled");
  });

  it("applies a duplicated webhook once and ignores a tampered one", async () => {
    const p = await seedPortfolio();
    const { reservation, deliveries } = await sandbox<{
      reservation: { confirmation_code: string };
      deliveries: Delivery[];
    }>("POST", "/_sandbox/airbnb/reservations?deliver=none", {
      listing_id: p.airbnb.listingId,
      start_date: addDaysUtc(40),
      end_date: addDaysUtc(41),
    });
    const d = deliveries[0]!;
    expect((await deliver(d)).status).toBe(202);
    expect((await deliver(d)).status).toBe(202);
    // One byte added to the signed body: still valid JSON, no longer the signed bytes.
    const tampered = await deliver({ ...d, body: d.body.replace('"event_type"', '"event_type" ') });
    expect(tampered.status).toBe(401);
    const key = `airbnb:${JSON.parse(d.body).event_id}`;
    const event = await eventually(
      async () =>
        env.DB.prepare(
          `SELECT status, duplicates FROM channel_events WHERE idempotency_key = ? AND status = 'done' AND duplicates = 1`,
        )
          .bind(key)
          .first<{ status: string; duplicates: number }>(),
      { what: "event done with one duplicate" },
    );
    expect(event).toEqual({ status: "done", duplicates: 1 });
    const n = await env.DB.prepare(
      `SELECT count(*) AS n FROM bookings WHERE channel_booking_id = ?`,
    )
      .bind(reservation.confirmation_code)
      .first<{ n: number }>();
    expect(n?.n).toBe(1);
  });

  it("ends right when an update and a cancellation are delivered in the wrong order", async () => {
    const p = await seedPortfolio();
    const created = await sandbox<{
      reservation: { confirmation_code: string };
      deliveries: Delivery[];
    }>("POST", "/_sandbox/airbnb/reservations?deliver=none", {
      listing_id: p.airbnb.listingId,
      start_date: addDaysUtc(50),
      end_date: addDaysUtc(53),
    });
    const code = created.reservation.confirmation_code;
    const modified = await sandbox<{ deliveries: Delivery[] }>(
      "POST",
      `/_sandbox/airbnb/reservations/${code}/modify?deliver=none`,
      {
        start_date: addDaysUtc(51),
        end_date: addDaysUtc(54),
      },
    );
    const cancelled = await sandbox<{ deliveries: Delivery[] }>(
      "POST",
      `/_sandbox/airbnb/reservations/${code}/cancel?deliver=none`,
    );
    // Cancellation first, then the older update, then the creation: each is a hint, the fetch is the truth.
    for (const d of [cancelled.deliveries[0]!, modified.deliveries[0]!, created.deliveries[0]!]) {
      expect((await deliver(d)).status).toBe(202);
    }
    await eventually(async () => (await bookingRow(code))?.status === "cancelled", {
      what: "cancelled",
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await bookingRow(code))?.status).toBe("cancelled");
    const held = await env.DB.prepare(
      `SELECT count(*) AS n FROM booking_nights bn JOIN bookings b ON b.id = bn.booking_id WHERE b.channel_booking_id = ?`,
    )
      .bind(code)
      .first<{ n: number }>();
    expect(held?.n).toBe(0);
  });

  it("gives exactly one confirmed booking and one stored conflict when two channels sell the same nights at once", async () => {
    const p = await seedPortfolio();
    const [a, b] = await Promise.all([
      sandbox<{ reservation: { confirmation_code: string }; deliveries: Delivery[] }>(
        "POST",
        "/_sandbox/airbnb/reservations?deliver=none",
        {
          listing_id: p.airbnb.listingId,
          start_date: addDaysUtc(60),
          end_date: addDaysUtc(63),
        },
      ),
      sandbox<{ reservation: { reservation_id: string }; deliveries: Delivery[] }>(
        "POST",
        "/_sandbox/booking_com/reservations?deliver=none",
        {
          hotel_id: p.booking.hotelId,
          room_id: p.booking.roomId,
          start_date: addDaysUtc(61),
          end_date: addDaysUtc(64),
        },
      ),
    ]);
    await Promise.all([deliver(a.deliveries[0]!), deliver(b.deliveries[0]!)]);
    const statuses = await eventually(
      async () => {
        const rows = await env.DB.prepare(
          `SELECT status FROM bookings WHERE property_id = ? ORDER BY status`,
        )
          .bind(p.propertyId)
          .all<{ status: string }>();
        return rows.results.length === 2 ? rows.results.map((r) => r.status) : null;
      },
      { what: "both bookings stored" },
    );
    expect(statuses).toEqual(["confirmed", "conflict"]);
    const alert = await env.DB.prepare(
      `SELECT kind, severity FROM alerts WHERE tenant_id = ? AND kind = 'booking_conflict'`,
    )
      .bind(p.tenantId)
      .first();
    expect(alert).toEqual({ kind: "booking_conflict", severity: "critical" });
  });
});
