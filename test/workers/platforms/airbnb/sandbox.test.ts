import { pushNights } from "../../../support/push";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { airbnbAdapter } from "../../../../src/platforms/airbnb/adapter";
import { platformConfig } from "../../../../src/platforms/registry";
import { resetTokenCache } from "../../../../src/platforms/kit/token-cache";
import {
  PlatformError,
  type AdapterContext,
  type NightState,
} from "../../../../src/platforms/contract";
import { addDaysUtc, sandbox, uniqueDigits } from "../../../support/fixtures";

/**
 * The Airbnb adapter against the sandbox's Airbnb simulator, over real HTTP (global fetch is routed
 * to the sandbox Worker). Ids are unique per test because the sandbox is shared by test files.
 */

interface Traced {
  ctx: AdapterContext;
  calls: Array<{
    method: string;
    path: string;
    status: number;
    auth: string | null;
    key: string | null;
  }>;
}

/** An adapter context on the test bindings whose fetch records every call. */
function traced(
  overrides: Partial<AdapterContext> = {},
  intercept?: (url: string) => Response | null,
): Traced {
  const config = platformConfig(env, "airbnb");
  const calls: Traced["calls"] = [];
  const ctx: AdapterContext = {
    baseUrl: config.baseUrl,
    credentials: config.credentials,
    now: () => Date.now(),
    fetch: async (input, init) => {
      const req = new Request(input, init);
      const res = intercept?.(req.url) ?? (await fetch(req));
      calls.push({
        method: req.method,
        path: new URL(req.url).pathname,
        status: res.status,
        auth: req.headers.get("authorization"),
        key: req.headers.get("idempotency-key"),
      });
      return res;
    },
    ...overrides,
  };
  return { ctx, calls };
}

async function newListing(): Promise<string> {
  const id = uniqueDigits(9);
  await sandbox("PUT", `/_sandbox/airbnb/listings/${id}`, {
    nightly_price: "120.00",
    currency: "EUR",
  });
  return id;
}

async function calendar(listing: string, start: string, end: string) {
  return (
    await sandbox<{ days: Array<{ date: string; available: boolean; price?: unknown }> }>(
      "GET",
      `/_sandbox/airbnb/listings/${listing}/calendar?start=${start}&end=${end}`,
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
  await sandbox("DELETE", "/_sandbox/airbnb/faults");
});

describe("airbnb adapter ↔ sandbox", () => {
  it("mints one token and reuses it across calls", async () => {
    const listing = await newListing();
    const { reservation } = await sandbox<{ reservation: { confirmation_code: string } }>(
      "POST",
      "/_sandbox/airbnb/reservations?deliver=none",
      { listing_id: listing, start_date: addDaysUtc(30), end_date: addDaysUtc(32) },
    );
    const t = traced();
    const hint = {
      eventId: "e1",
      eventType: "reservation.created",
      bookingRef: reservation.confirmation_code,
    };
    await airbnbAdapter.fetchBookings(t.ctx, hint);
    await airbnbAdapter.fetchBookings(t.ctx, hint);
    expect(t.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      "POST /airbnb/oauth2/token 200",
      `GET /airbnb/v2/reservations/${reservation.confirmation_code} 200`,
      `GET /airbnb/v2/reservations/${reservation.confirmation_code} 200`,
    ]);
    expect(t.calls[1]!.auth).toMatch(/^Bearer \S+$/);
    expect(t.calls[2]!.auth).toBe(t.calls[1]!.auth);
  });

  it("fetches a reservation as a ChannelBooking, then its cancellation", async () => {
    const listing = await newListing();
    const checkIn = addDaysUtc(40);
    const checkOut = addDaysUtc(43);
    const { reservation } = await sandbox<{
      reservation: { confirmation_code: string; total_price: { amount: string; currency: string } };
    }>("POST", "/_sandbox/airbnb/reservations?deliver=none", {
      listing_id: listing,
      start_date: checkIn,
      end_date: checkOut,
    });
    const code = reservation.confirmation_code;
    const hint = {
      eventId: "e2",
      eventType: "reservation.created",
      externalRoomId: listing,
      bookingRef: code,
    };
    const { bookings } = await airbnbAdapter.fetchBookings(traced().ctx, hint);
    expect(bookings).toHaveLength(1);
    const booking = bookings[0]!;
    expect(booking).toMatchObject({
      platform: "airbnb",
      channelBookingId: code,
      externalRoomId: listing,
      status: "confirmed",
      checkIn,
      checkOut,
      currency: reservation.total_price.currency,
      amountMinor: Math.round(Number(reservation.total_price.amount) * 100),
    });
    expect(booking.revision).toBeGreaterThan(Date.parse("2025-01-01"));

    await sandbox("POST", `/_sandbox/airbnb/reservations/${code}/cancel?deliver=none`);
    const after = await airbnbAdapter.fetchBookings(traced().ctx, hint);
    expect(after.bookings.map((b) => b.status)).toEqual(["cancelled"]);
    expect(after.bookings[0]!.revision).toBeGreaterThanOrEqual(booking.revision);
  });

  it("an unknown confirmation code is a permanent 404", async () => {
    const err = await failure(
      airbnbAdapter.fetchBookings(traced().ctx, {
        eventId: "e",
        eventType: "x",
        bookingRef: "HMZZZZZZZ9",
      }),
    );
    expect([err.kind, err.status]).toEqual(["permanent", 404]);
  });

  it("pushes availability and prices that the sandbox calendar then shows", async () => {
    const listing = await newListing();
    const dates = Array.from({ length: 6 }, (_, i) => addDaysUtc(50 + i));
    const pattern = [1, 0, 0, 1, 1, 1];
    const nights: NightState[] = dates.map((date, i) => ({
      date,
      available: pattern[i]!,
      ...(i >= 3 ? { priceMinor: 15050, currency: "EUR" } : {}),
    }));
    const t = traced({ idempotencyKey: `push-${listing}` });
    const result = await pushNights(
      airbnbAdapter,
      t.ctx,
      { externalPropertyId: "host", externalRoomId: listing },
      nights,
    );
    expect(result).toEqual({ calls: 2, nights: 6 });
    expect(t.calls.filter((c) => c.method === "PUT").map((c) => [c.path, c.status, c.key])).toEqual(
      [
        [`/airbnb/v2/listings/${listing}/calendar`, 200, `push-${listing}-1`],
        [`/airbnb/v2/listings/${listing}/pricing`, 200, `push-${listing}-2`],
      ],
    );
    const days = await calendar(listing, dates[0]!, dates.at(-1)!);
    expect(days.map((d) => [d.date, d.available])).toEqual(
      dates.map((d, i) => [d, pattern[i] === 1]),
    );
    expect(days.slice(3).map((d) => d.price)).toEqual(["150.50", "150.50", "150.50"]);

    // Re-opening the closed nights is read back too.
    await pushNights(
      airbnbAdapter,
      traced().ctx,
      { externalPropertyId: "host", externalRoomId: listing },
      [
        { date: dates[1]!, available: 1 },
        { date: dates[2]!, available: 1 },
      ],
    );
    expect((await calendar(listing, dates[0]!, dates.at(-1)!)).every((d) => d.available)).toBe(
      true,
    );
  });

  it("429 → rate_limited with the sandbox's Retry-After", async () => {
    const listing = await newListing();
    const t = traced();
    await pushNights(airbnbAdapter, t.ctx, { externalPropertyId: "h", externalRoomId: listing }, [
      { date: addDaysUtc(60), available: 1 },
    ]); // token minted before the fault, so the fault hits the calendar call
    await sandbox("POST", "/_sandbox/airbnb/faults", { rate_limit_next: 1, retry_after: 7 });
    const err = await failure(
      pushNights(airbnbAdapter, t.ctx, { externalPropertyId: "h", externalRoomId: listing }, [
        { date: addDaysUtc(60), available: 0 },
      ]),
    );
    expect([err.kind, err.status, err.retryAfterSeconds]).toEqual(["rate_limited", 429, 7]);
  });

  it("503 → transient", async () => {
    const listing = await newListing();
    await sandbox("POST", "/_sandbox/airbnb/faults", { fail_next: 1, fail_status: 503 });
    const err = await failure(
      pushNights(
        airbnbAdapter,
        traced().ctx,
        { externalPropertyId: "h", externalRoomId: listing },
        [{ date: addDaysUtc(61), available: 0 }],
      ),
    );
    expect([err.kind, err.status]).toEqual(["transient", 503]);
  });

  it("401 → drops the token, refreshes once and retries the call", async () => {
    const listing = await newListing();
    let first = true;
    // The first grant is a token the sandbox never issued, as if it had been revoked.
    const t = traced({}, (url) => {
      if (!first || !url.endsWith("/oauth2/token")) return null;
      first = false;
      return Response.json({ access_token: "revoked-token", expires_in: 3600 });
    });
    const result = await pushNights(
      airbnbAdapter,
      t.ctx,
      { externalPropertyId: "h", externalRoomId: listing },
      [{ date: addDaysUtc(62), available: 0 }],
    );
    expect(result.calls).toBe(1);
    expect(t.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      "POST /airbnb/oauth2/token 200",
      `PUT /airbnb/v2/listings/${listing}/calendar 401`,
      "POST /airbnb/oauth2/token 200",
      `PUT /airbnb/v2/listings/${listing}/calendar 200`,
    ]);
    expect(t.calls[1]!.auth).toBe("Bearer revoked-token");
    expect(t.calls[3]!.auth).not.toBe("Bearer revoked-token");
    expect((await calendar(listing, addDaysUtc(62), addDaysUtc(62)))[0]?.available).toBe(false);
  });
});
