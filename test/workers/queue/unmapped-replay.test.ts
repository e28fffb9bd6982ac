import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { replayUnmappedFor } from "../../../src/queue/replay-unmapped";
import {
  addDaysUtc,
  deliver,
  eventually,
  sandbox,
  seedPortfolio,
  uniqueDigits,
  type Delivery,
  type Portfolio,
} from "../../support/fixtures";

/** A second room type on the portfolio's property, not mapped anywhere yet. */
async function addRoomType(p: Portfolio): Promise<string> {
  const id = `rt_${uniqueDigits(8)}`;
  await env.DB.prepare(
    `INSERT INTO room_types (id, tenant_id, property_id, name, units, created_at) VALUES (?, ?, ?, ?, 1, ?)`,
  )
    .bind(id, p.tenantId, p.propertyId, `Studio ${id}`, Date.now())
    .run();
  return id;
}

async function map(
  p: Portfolio,
  connectionId: string,
  platform: string,
  roomTypeId: string,
  externalId: string,
) {
  await env.DB.prepare(
    `INSERT INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id, external_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'room_type', ?, ?, ?, ?)`,
  )
    .bind(
      `map_${uniqueDigits(10)}`,
      p.tenantId,
      connectionId,
      platform,
      roomTypeId,
      externalId,
      Date.now(),
      Date.now(),
    )
    .run();
  return replayUnmappedFor(env, {
    tenantId: p.tenantId,
    connectionId,
    platform: platform as "airbnb" | "booking_com",
    mappingType: "room_type",
    externalId,
  });
}

const bookingsOf = (channelBookingId: string) =>
  env.DB.prepare(
    `SELECT status, room_type_id AS roomTypeId FROM bookings WHERE channel_booking_id = ?`,
  )
    .bind(channelBookingId)
    .all<{ status: string; roomTypeId: string | null }>();

describe("unmapped inbound is kept, alerted, and imported once its mapping exists", () => {
  it("Airbnb: a webhook for an unmapped listing waits as `unmapped`, then the replay imports it once", async () => {
    const p = await seedPortfolio();
    const studio = await addRoomType(p);
    const listing = uniqueDigits(8);
    await sandbox("PUT", `/_sandbox/airbnb/listings/${listing}`, { account: p.airbnb.account });
    const { reservation, deliveries } = await sandbox<{
      reservation: { confirmation_code: string };
      deliveries: Delivery[];
    }>("POST", "/_sandbox/airbnb/reservations?deliver=none", {
      listing_id: listing,
      start_date: addDaysUtc(70),
      end_date: addDaysUtc(72),
    });
    expect((await deliver(deliveries[0]!)).status).toBe(202);
    const key = `airbnb:${JSON.parse(deliveries[0]!.body).event_id}`;
    await eventually(
      () =>
        env.DB.prepare(
          `SELECT 1 AS ok FROM channel_events WHERE idempotency_key = ? AND status = 'unmapped' AND entity_external_id = ?`,
        )
          .bind(key, listing)
          .first(),
      { what: "event kept as unmapped" },
    );
    expect((await bookingsOf(reservation.confirmation_code)).results).toEqual([]);
    const alert = await env.DB.prepare(
      `SELECT kind FROM alerts WHERE kind = 'unmapped_inbound' AND message LIKE ?`,
    )
      .bind(`%${listing}%`)
      .first();
    expect(alert).toEqual({ kind: "unmapped_inbound" });

    expect(await map(p, p.airbnb.connectionId, "airbnb", studio, listing)).toBe(1);
    await eventually(
      async () =>
        (await bookingsOf(reservation.confirmation_code)).results[0]?.status === "confirmed",
      {
        what: "imported after mapping",
      },
    );
    // Replaying again (a second mapping call, a retried replay) imports nothing more.
    await replayUnmappedFor(env, {
      tenantId: p.tenantId,
      connectionId: p.airbnb.connectionId,
      platform: "airbnb",
      mappingType: "room_type",
      externalId: listing,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await bookingsOf(reservation.confirmation_code)).results).toEqual([
      { status: "confirmed", roomTypeId: studio },
    ]);
    const nights = await env.DB.prepare(
      `SELECT count(*) AS n FROM booking_nights bn JOIN bookings b ON b.id = bn.booking_id WHERE b.channel_booking_id = ?`,
    )
      .bind(reservation.confirmation_code)
      .first<{ n: number }>();
    expect(nights?.n).toBe(2);
  });

  it("Booking.com: a pulled booking for an unmapped room is stored `unmapped`, unacknowledged, and imported once mapped", async () => {
    const p = await seedPortfolio();
    const studio = await addRoomType(p);
    const room = uniqueDigits(9);
    await sandbox("PUT", `/_sandbox/booking_com/hotels/${p.booking.hotelId}/rooms/${room}`, {
      units: 1,
    });
    const { reservation, deliveries } = await sandbox<{
      reservation: { reservation_id: string };
      deliveries: Delivery[];
    }>("POST", "/_sandbox/booking_com/reservations?deliver=none", {
      hotel_id: p.booking.hotelId,
      room_id: room,
      start_date: addDaysUtc(80),
      end_date: addDaysUtc(83),
    });
    expect((await deliver(deliveries[0]!)).status).toBe(202);
    await eventually(
      async () => (await bookingsOf(reservation.reservation_id)).results[0]?.status === "unmapped",
      {
        what: "stored as unmapped",
      },
    );
    expect((await bookingsOf(reservation.reservation_id)).results[0]?.roomTypeId).toBeNull();

    expect(
      await map(p, p.booking.connectionId, "booking_com", studio, room),
    ).toBeGreaterThanOrEqual(1);
    await eventually(
      async () => (await bookingsOf(reservation.reservation_id)).results[0]?.status === "confirmed",
      {
        what: "imported after mapping",
      },
    );
    expect((await bookingsOf(reservation.reservation_id)).results).toEqual([
      { status: "confirmed", roomTypeId: studio },
    ]);
    // Now stored, it is acknowledged (through the gate, which may hold the call for a token): a
    // further pull no longer offers it.
    const token = await bookingToken();
    await eventually(
      async () => {
        const pending = await fetch(
          `http://sandbox.test/booking_com/ota/OTA_HotelResNotif?hotel_id=${p.booking.hotelId}`,
          { headers: { authorization: `Bearer ${token}` } },
        ).then((r) => r.text());
        return !pending.includes(reservation.reservation_id);
      },
      { what: "the reservation acknowledged" },
    );
  });
});

async function bookingToken(): Promise<string> {
  const res = await fetch("http://sandbox.test/booking_com/oauth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: env.BOOKING_COM_CLIENT_ID,
      client_secret: env.BOOKING_COM_CLIENT_SECRET,
    }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}
