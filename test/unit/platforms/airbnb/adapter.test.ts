import { pushNights } from "../../../support/push";
import { beforeEach, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { addDays } from "../../../../src/domain/dates";
import { airbnbAdapter } from "../../../../src/platforms/airbnb/adapter";
import { resetTokenCache } from "../../../../src/platforms/kit/token-cache";
import {
  PlatformError,
  type AdapterContext,
  type NightState,
} from "../../../../src/platforms/contract";
import { clock, fakeFetch, json, type Handler, type Recorded } from "../../fake-fetch";

const BASE = "http://fake.test/airbnb";
const CREDENTIALS = {
  clientId: "ab-client",
  clientSecret: "ab-secret",
  refreshToken: "ab-refresh-0",
};

const RESERVATION = {
  confirmation_code: "HMABC12345",
  listing_id: "900001",
  status: "accepted",
  start_date: "2026-05-01",
  end_date: "2026-05-04",
  guest: { first_name: "Mia", last_name: "Berg" },
  number_of_guests: 2,
  total_price: { amount: "450.10", currency: "EUR" },
  updated_at: "2026-03-01T09:00:00Z",
};

/** A fake Airbnb: token grant (rotating refresh tokens) + whatever `api` answers. */
function setup(api: Handler) {
  let minted = 0;
  const refreshTokensSeen: string[] = [];
  const fake = fakeFetch((req) => {
    if (req.url.pathname === "/airbnb/oauth2/token") {
      const form = new URLSearchParams(req.body);
      refreshTokensSeen.push(form.get("refresh_token") ?? "");
      minted += 1;
      return json({
        access_token: `at-${minted}`,
        expires_in: 3600,
        refresh_token: `ab-refresh-${minted}`,
      });
    }
    return api(req);
  });
  const c = clock();
  const ctx: AdapterContext = {
    baseUrl: BASE,
    credentials: CREDENTIALS,
    fetch: fake.fetch,
    now: c.now,
  };
  const apiCalls = () => fake.requests.filter((r) => !r.url.pathname.endsWith("/oauth2/token"));
  return {
    ctx,
    clock: c,
    requests: fake.requests,
    apiCalls,
    minted: () => minted,
    refreshTokensSeen,
  };
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

describe("airbnb parseWebhook", () => {
  const hook = {
    event_id: "evt_1",
    event_type: "reservation.created",
    listing_id: "900001",
    confirmation_code: "HMABC12345",
    occurred_at: "2026-03-01T09:00:00Z",
  };

  it("extracts the hint", () => {
    expect(airbnbAdapter.parseWebhook(hook)).toEqual({
      eventId: "evt_1",
      eventType: "reservation.created",
      externalRoomId: "900001",
      bookingRef: "HMABC12345",
    });
  });

  it.each([
    ["confirmation_code", { confirmation_code: "HM123" }],
    ["listing_id", { listing_id: "abc" }],
    ["event_type", { event_type: "reservation.exploded" }],
    ["occurred_at", { occurred_at: "yesterday" }],
    ["event_id", { event_id: undefined }],
  ])("rejects a bad %s with a ZodError naming it", (field, patch) => {
    let err: unknown;
    try {
      airbnbAdapter.parseWebhook({ ...hook, ...patch });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ZodError);
    expect((err as ZodError).issues.map((i) => i.path.join("."))).toEqual([field]);
  });
});

describe("airbnb fetchBookings", () => {
  it("fetches the reservation with a bearer token and maps it", async () => {
    const s = setup(() => json({ reservation: RESERVATION }));
    const pulled = await airbnbAdapter.fetchBookings(s.ctx, {
      eventId: "e",
      eventType: "x",
      bookingRef: "HMABC12345",
    });
    expect(pulled.acknowledgement).toBeUndefined();
    expect(pulled.bookings).toEqual([
      {
        platform: "airbnb",
        channelBookingId: "HMABC12345",
        externalRoomId: "900001",
        status: "confirmed",
        checkIn: "2026-05-01",
        checkOut: "2026-05-04",
        guestName: "Mia Berg",
        guestCount: 2,
        amountMinor: 45010,
        currency: "EUR",
        revision: Date.parse("2026-03-01T09:00:00Z"),
      },
    ]);
    const [call] = s.apiCalls();
    expect(call?.method).toBe("GET");
    expect(call?.url.pathname).toBe("/airbnb/v2/reservations/HMABC12345");
    expect(call?.headers.get("authorization")).toBe("Bearer at-1");
    const tokenCall = s.requests[0]!;
    expect(tokenCall.headers.get("content-type")).toContain("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(tokenCall.body))).toEqual({
      grant_type: "refresh_token",
      client_id: "ab-client",
      client_secret: "ab-secret",
      refresh_token: "ab-refresh-0",
    });
  });

  it.each([
    ["cancelled", "cancelled"],
    ["denied", "cancelled"],
    ["expired", "cancelled"],
  ])("maps status %s → %s", async (status, expected) => {
    const s = setup(() => json({ reservation: { ...RESERVATION, status } }));
    const { bookings } = await airbnbAdapter.fetchBookings(s.ctx, {
      eventId: "e",
      eventType: "x",
      bookingRef: "HMABC12345",
    });
    expect(bookings.map((b) => b.status)).toEqual([expected]);
  });

  it("returns nothing for a request still pending the host's answer", async () => {
    const s = setup(() => json({ reservation: { ...RESERVATION, status: "pending" } }));
    const { bookings } = await airbnbAdapter.fetchBookings(s.ctx, {
      eventId: "e",
      eventType: "x",
      bookingRef: "HMABC12345",
    });
    expect(bookings).toEqual([]);
  });

  it("a malformed reservation is permanent and names the field", async () => {
    const s = setup(() => json({ reservation: { ...RESERVATION, end_date: "2026-13-01" } }));
    const err = await failure(
      airbnbAdapter.fetchBookings(s.ctx, {
        eventId: "e",
        eventType: "x",
        bookingRef: "HMABC12345",
      }),
    );
    expect(err.kind).toBe("permanent");
    expect(err.message).toContain("reservation.end_date");
  });

  it("404 is permanent", async () => {
    const s = setup(() => json({ error: "not_found" }, 404));
    const err = await failure(
      airbnbAdapter.fetchBookings(s.ctx, {
        eventId: "e",
        eventType: "x",
        bookingRef: "HMZZZZZZZZ",
      }),
    );
    expect([err.kind, err.status]).toEqual(["permanent", 404]);
  });

  it("reuses the token across calls and uses the rotated refresh token for the next mint", async () => {
    const s = setup(() => json({ reservation: RESERVATION }));
    const hint = { eventId: "e", eventType: "x", bookingRef: "HMABC12345" };
    await airbnbAdapter.fetchBookings(s.ctx, hint);
    await airbnbAdapter.fetchBookings(s.ctx, hint);
    expect(s.minted()).toBe(1);
    s.clock.advance(3600_000);
    await airbnbAdapter.fetchBookings(s.ctx, hint);
    expect(s.refreshTokensSeen).toEqual(["ab-refresh-0", "ab-refresh-1"]);
  });

  it("on 401 refreshes once and retries the call", async () => {
    let first = true;
    const s = setup((req) => {
      if (first) {
        first = false;
        return json({ error: "invalid_token" }, 401);
      }
      return req.headers.get("authorization") === "Bearer at-2"
        ? json({ reservation: RESERVATION })
        : json({}, 500);
    });
    const { bookings } = await airbnbAdapter.fetchBookings(s.ctx, {
      eventId: "e",
      eventType: "x",
      bookingRef: "HMABC12345",
    });
    expect(bookings).toHaveLength(1);
    expect(s.minted()).toBe(2);
    expect(s.apiCalls().map((r) => r.headers.get("authorization"))).toEqual([
      "Bearer at-1",
      "Bearer at-2",
    ]);
  });

  it("a persistent 401 surfaces as auth after exactly one retry", async () => {
    const s = setup(() => json({ error: "invalid_token" }, 401));
    const err = await failure(
      airbnbAdapter.fetchBookings(s.ctx, {
        eventId: "e",
        eventType: "x",
        bookingRef: "HMABC12345",
      }),
    );
    expect(err.kind).toBe("auth");
    expect(s.apiCalls()).toHaveLength(2);
    expect(s.minted()).toBe(2);
  });
});

describe("airbnb pushAvailability", () => {
  const target = { externalPropertyId: "host-1", externalRoomId: "900001" };

  function night(date: string, available: number, priceMinor?: number): NightState {
    return {
      date,
      available,
      ...(priceMinor !== undefined ? { priceMinor, currency: "EUR" } : {}),
    };
  }

  function bodies(calls: Recorded[], path: string) {
    return calls
      .filter((r) => r.url.pathname.endsWith(path))
      .map((r) => JSON.parse(r.body) as { operations: unknown[] });
  }

  it("merges runs into calendar and pricing operations with idempotency keys", async () => {
    const s = setup(() => json({ ok: true }));
    const nights = [
      night("2026-05-01", 1, 12000),
      night("2026-05-02", 2, 12000),
      night("2026-05-03", 0, 12000),
      night("2026-05-04", 0, 15000),
      night("2026-05-06", 1),
    ];
    const result = await pushNights(
      airbnbAdapter,
      { ...s.ctx, idempotencyKey: "push-9" },
      target,
      nights,
    );
    expect(result).toEqual({ calls: 2, nights: 5 });
    const calls = s.apiCalls();
    expect(calls.map((r) => [r.method, r.url.pathname, r.headers.get("idempotency-key")])).toEqual([
      ["PUT", "/airbnb/v2/listings/900001/calendar", "push-9-1"],
      ["PUT", "/airbnb/v2/listings/900001/pricing", "push-9-2"],
    ]);
    expect(bodies(calls, "/calendar")).toEqual([
      {
        operations: [
          { start_date: "2026-05-01", end_date: "2026-05-02", availability: "available" },
          { start_date: "2026-05-03", end_date: "2026-05-04", availability: "unavailable" },
          { start_date: "2026-05-06", end_date: "2026-05-06", availability: "available" },
        ],
      },
    ]);
    expect(bodies(calls, "/pricing")).toEqual([
      {
        operations: [
          {
            start_date: "2026-05-01",
            end_date: "2026-05-03",
            nightly_price: "120.00",
            currency: "EUR",
          },
          {
            start_date: "2026-05-04",
            end_date: "2026-05-04",
            nightly_price: "150.00",
            currency: "EUR",
          },
        ],
      },
    ]);
  });

  it("splits into several calls beyond 50 operations", async () => {
    const s = setup(() => json({ ok: true }));
    const nights = Array.from({ length: 120 }, (_, i) => night(addDays("2026-05-01", i), i % 2));
    const result = await pushNights(airbnbAdapter, s.ctx, target, nights);
    expect(result).toEqual({ calls: 3, nights: 120 });
    expect(bodies(s.apiCalls(), "/calendar").map((b) => b.operations.length)).toEqual([50, 50, 20]);
    expect(s.apiCalls().every((r) => !r.headers.has("idempotency-key"))).toBe(true);
  });

  it("pushes nothing for no nights", async () => {
    const s = setup(() => json({ ok: true }));
    expect(await pushNights(airbnbAdapter, s.ctx, target, [])).toEqual({
      calls: 0,
      nights: 0,
    });
    expect(s.requests).toHaveLength(0);
  });

  it("429 → rate_limited with Retry-After; 503 → transient", async () => {
    const limited = setup(() => json({ error: "slow down" }, 429, { "retry-after": "7" }));
    const err = await failure(
      pushNights(airbnbAdapter, limited.ctx, target, [night("2026-05-01", 1)]),
    );
    expect([err.kind, err.retryAfterSeconds]).toEqual(["rate_limited", 7]);
    resetTokenCache();
    const down = setup(() => new Response("unavailable", { status: 503 }));
    const err2 = await failure(
      pushNights(airbnbAdapter, down.ctx, target, [night("2026-05-01", 1)]),
    );
    expect(err2.kind).toBe("transient");
  });

  it("a refused refresh token (400 invalid_grant) is an auth failure", async () => {
    const fake = fakeFetch(() => json({ error: "invalid_grant" }, 400));
    const ctx: AdapterContext = {
      baseUrl: BASE,
      credentials: CREDENTIALS,
      fetch: fake.fetch,
      now: clock().now,
    };
    const err = await failure(pushNights(airbnbAdapter, ctx, target, [night("2026-05-01", 1)]));
    expect(err.kind).toBe("auth");
    expect(err.message).not.toContain("ab-secret");
  });
});
