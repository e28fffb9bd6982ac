import { pushNights } from "../../../support/push";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bookingComAdapter } from "../../../../src/platforms/booking-com/adapter";
import { platformConfig } from "../../../../src/platforms/registry";
import { resetTokenCache } from "../../../../src/platforms/kit/token-cache";
import {
  PlatformError,
  type AdapterContext,
  type NightState,
} from "../../../../src/platforms/contract";
import { addDaysUtc, sandbox, uniqueDigits } from "../../../support/fixtures";

/**
 * The Booking.com adapter against the sandbox's OTA XML simulator, over real HTTP. Ids are unique
 * per test because the sandbox is shared by test files.
 */

interface Traced {
  ctx: AdapterContext;
  calls: Array<{ method: string; path: string; status: number; auth: string | null; body: string }>;
}

function traced(
  overrides: Partial<AdapterContext> = {},
  intercept?: (url: string) => Response | null,
): Traced {
  const config = platformConfig(env, "booking_com");
  const calls: Traced["calls"] = [];
  const ctx: AdapterContext = {
    baseUrl: config.baseUrl,
    credentials: config.credentials,
    now: () => Date.now(),
    fetch: async (input, init) => {
      const req = new Request(input, init);
      // XML bodies are built as strings; token forms are left unread (they hold the secret).
      const body = typeof init?.body === "string" ? init.body : "";
      const res = intercept?.(req.url) ?? (await fetch(req));
      calls.push({
        method: req.method,
        path: new URL(req.url).pathname,
        status: res.status,
        auth: req.headers.get("authorization"),
        body,
      });
      return res;
    },
    ...overrides,
  };
  return { ctx, calls };
}

async function newRoom(units = 2) {
  const hotel = uniqueDigits(7);
  const room = uniqueDigits(9);
  const ratePlan = uniqueDigits(8);
  await sandbox("PUT", `/_sandbox/booking_com/hotels/${hotel}/rooms/${room}`, {
    units,
    rate_plan_id: ratePlan,
  });
  return {
    hotel,
    room,
    ratePlan,
    target: { externalPropertyId: hotel, externalRoomId: room, externalRatePlanId: ratePlan },
  };
}

type Day = { date: string; available: boolean; rooms_to_sell: number; price: unknown };

async function calendar(hotel: string, room: string, start: string, end: string): Promise<Day[]> {
  return (
    await sandbox<{ days: Day[] }>(
      "GET",
      `/_sandbox/booking_com/hotels/${hotel}/rooms/${room}/calendar?start=${start}&end=${end}`,
    )
  ).days;
}

async function failure(p: Promise<unknown>): Promise<PlatformError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlatformError);
  return err as PlatformError;
}

beforeEach(() => resetTokenCache());
afterEach(async () => {
  await sandbox("DELETE", "/_sandbox/booking_com/faults");
});

describe("booking_com adapter ↔ sandbox", () => {
  it("pushes 40 nights as 31-day windows; the calendar reads back rooms to sell, closes and prices", async () => {
    const r = await newRoom(2);
    const nights: NightState[] = Array.from({ length: 40 }, (_, i) => ({
      date: addDaysUtc(10 + i),
      available: i % 10 < 3 ? 0 : i % 2 === 0 ? 2 : 1,
      priceMinor: i < 20 ? 10000 : 11990,
      currency: "EUR",
    }));
    const t = traced({ idempotencyKey: `push-${r.room}` });
    const result = await pushNights(bookingComAdapter, t.ctx, r.target, nights);
    expect(result).toEqual({ calls: 4, nights: 40 });
    expect(t.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      "POST /booking_com/oauth/token 200",
      "POST /booking_com/ota/OTA_HotelAvailNotif 200",
      "POST /booking_com/ota/OTA_HotelAvailNotif 200",
      "POST /booking_com/ota/OTA_HotelRateAmountNotif 200",
      "POST /booking_com/ota/OTA_HotelRateAmountNotif 200",
    ]);
    expect(t.calls[1]!.body).toContain(`EchoToken="push-${r.room}-1"`);

    const days = await calendar(r.hotel, r.room, nights[0]!.date, nights.at(-1)!.date);
    expect(days.map((d) => [d.date, d.rooms_to_sell, d.available])).toEqual(
      nights.map((n) => [n.date, n.available, n.available > 0]),
    );
    expect(days.map((d) => d.price)).toEqual(
      nights.map((n) => (n.priceMinor === 10000 ? "100.00" : "119.90")),
    );
  });

  it("pulls pending reservations, acknowledges them, and they are not offered again", async () => {
    const r = await newRoom(1);
    const checkIn = addDaysUtc(70);
    const checkOut = addDaysUtc(73);
    const { reservation } = await sandbox<{ reservation: { reservation_id: string } }>(
      "POST",
      "/_sandbox/booking_com/reservations?deliver=none",
      { hotel_id: r.hotel, room_id: r.room, start_date: checkIn, end_date: checkOut },
    );
    const hint = {
      eventId: "n1",
      eventType: "reservation.new",
      externalPropertyId: r.hotel,
      bookingRef: reservation.reservation_id,
    };
    const pulled = await bookingComAdapter.fetchBookings(traced().ctx, hint);
    expect(pulled.bookings).toEqual([
      expect.objectContaining({
        platform: "booking_com",
        channelBookingId: reservation.reservation_id,
        externalPropertyId: r.hotel,
        externalRoomId: r.room,
        status: "confirmed",
        checkIn,
        checkOut,
      }),
    ]);
    expect(pulled.bookings[0]!.revision).toBeGreaterThan(Date.parse("2025-01-01"));
    expect(pulled.acknowledgement).toBeDefined();

    // Until acknowledged, the reservation is offered again on the next pull.
    const again = await bookingComAdapter.fetchBookings(traced().ctx, hint);
    expect(again.bookings.map((b) => b.channelBookingId)).toEqual([reservation.reservation_id]);

    await bookingComAdapter.acknowledge!(traced().ctx, pulled.acknowledgement, [
      reservation.reservation_id,
    ]);
    expect(await bookingComAdapter.fetchBookings(traced().ctx, hint)).toEqual({ bookings: [] });

    // A cancellation is a new pending change.
    await sandbox(
      "POST",
      `/_sandbox/booking_com/reservations/${reservation.reservation_id}/cancel?deliver=none`,
    );
    const cancelled = await bookingComAdapter.fetchBookings(traced().ctx, hint);
    expect(cancelled.bookings.map((b) => [b.channelBookingId, b.status])).toEqual([
      [reservation.reservation_id, "cancelled"],
    ]);
    await bookingComAdapter.acknowledge!(traced().ctx, cancelled.acknowledgement, [
      reservation.reservation_id,
    ]);
    expect(await bookingComAdapter.fetchBookings(traced().ctx, hint)).toEqual({ bookings: [] });
  });

  it("an OTA <Errors> answer is permanent and names the code", async () => {
    const r = await newRoom(1);
    const err = await failure(
      pushNights(bookingComAdapter, traced().ctx, { ...r.target, externalRoomId: "999999999" }, [
        { date: addDaysUtc(5), available: 1 },
      ]),
    );
    expect(err.kind).toBe("permanent");
    expect(err.message).toContain("INVALID_ROOM_TYPE");
  });

  it("429 → rate_limited with Retry-After; 503 → transient", async () => {
    const r = await newRoom(1);
    const t = traced();
    await pushNights(bookingComAdapter, t.ctx, r.target, [{ date: addDaysUtc(6), available: 1 }]);
    await sandbox("POST", "/_sandbox/booking_com/faults", { rate_limit_next: 1, retry_after: 7 });
    const limited = await failure(
      pushNights(bookingComAdapter, t.ctx, r.target, [{ date: addDaysUtc(6), available: 0 }]),
    );
    expect([limited.kind, limited.retryAfterSeconds]).toEqual(["rate_limited", 7]);
    await sandbox("POST", "/_sandbox/booking_com/faults", { fail_next: 1, fail_status: 503 });
    const down = await failure(
      pushNights(bookingComAdapter, t.ctx, r.target, [{ date: addDaysUtc(6), available: 0 }]),
    );
    expect(down.kind).toBe("transient");
  });

  it("401 → one new token, one retry", async () => {
    const r = await newRoom(1);
    let first = true;
    const t = traced({}, (url) => {
      if (!first || !url.endsWith("/oauth/token")) return null;
      first = false;
      return Response.json({ access_token: "revoked-jwt", expires_in: 3600 });
    });
    const result = await pushNights(bookingComAdapter, t.ctx, r.target, [
      { date: addDaysUtc(7), available: 0 },
    ]);
    expect(result).toEqual({ calls: 1, nights: 1 });
    expect(t.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      "POST /booking_com/oauth/token 200",
      "POST /booking_com/ota/OTA_HotelAvailNotif 401",
      "POST /booking_com/oauth/token 200",
      "POST /booking_com/ota/OTA_HotelAvailNotif 200",
    ]);
    const [day] = await calendar(r.hotel, r.room, addDaysUtc(7), addDaysUtc(7));
    expect([day?.rooms_to_sell, day?.available]).toEqual([0, false]);
  });
});
