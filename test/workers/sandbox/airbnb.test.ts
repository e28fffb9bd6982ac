import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  airbnbToken,
  call,
  control,
  day,
  type Delivery,
  resetSandbox,
  uniqueDigits,
  verifySignature,
} from "./helpers";

beforeAll(resetSandbox);
afterEach(() => control("DELETE", "/_sandbox/airbnb/faults"));

async function newListing(price = "120.00"): Promise<string> {
  const id = uniqueDigits(8);
  await control("PUT", `/_sandbox/airbnb/listings/${id}`, {
    nightly_price: price,
    currency: "EUR",
  });
  return id;
}

async function book(listingId: string, start: string, end: string, extra: object = {}) {
  return control("POST", "/_sandbox/airbnb/reservations?deliver=none", {
    listing_id: listingId,
    start_date: start,
    end_date: end,
    guest_name: "Anna Schmidt",
    guests: 2,
    ...extra,
  });
}

function putCalendar(listingId: string, token: string, operations: unknown[], key?: string) {
  return call("PUT", `/airbnb/v2/listings/${listingId}/calendar`, {
    token,
    body: { operations },
    headers: key ? { "idempotency-key": key } : {},
  });
}

describe("airbnb oauth", () => {
  const form = (p: Record<string, string>) => ({
    raw: new URLSearchParams(p).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  const good = {
    grant_type: "refresh_token",
    client_id: env.AIRBNB_CLIENT_ID,
    client_secret: env.AIRBNB_CLIENT_SECRET,
    refresh_token: env.AIRBNB_REFRESH_TOKEN,
  };

  it("exchanges the refresh token (form or JSON) for a bearer token", async () => {
    const r = await call("POST", "/airbnb/oauth2/token", form(good));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      access_token: expect.stringMatching(/^[0-9a-f]{64}$/),
      token_type: "bearer",
      expires_in: 3600,
      refresh_token: env.AIRBNB_REFRESH_TOKEN,
    });
    const viaJson = await call("POST", "/airbnb/oauth2/token", { body: good });
    expect(viaJson.status).toBe(200);
    expect(viaJson.json.access_token).not.toBe(r.json.access_token);
  });

  it("refuses a bad client (401), a bad refresh token (400) and another grant (400)", async () => {
    const badClient = await call(
      "POST",
      "/airbnb/oauth2/token",
      form({ ...good, client_secret: "x" }),
    );
    expect([badClient.status, badClient.json]).toEqual([401, { error: "invalid_client" }]);
    const badGrant = await call(
      "POST",
      "/airbnb/oauth2/token",
      form({ ...good, refresh_token: "x" }),
    );
    expect([badGrant.status, badGrant.json]).toEqual([400, { error: "invalid_grant" }]);
    const otherGrant = await call(
      "POST",
      "/airbnb/oauth2/token",
      form({ ...good, grant_type: "client_credentials" }),
    );
    expect([otherGrant.status, otherGrant.json]).toEqual([
      400,
      { error: "unsupported_grant_type" },
    ]);
  });

  it("requires an issued bearer token on every /v2 call", async () => {
    const listing = await newListing();
    const path = `/airbnb/v2/listings/${listing}/reservations`;
    for (const token of [undefined, "not-a-token"]) {
      const r = await call("GET", path, token ? { token } : {});
      expect([r.status, r.json.error]).toEqual([401, "invalid_token"]);
    }
    const ok = await call("GET", path, { token: await airbnbToken() });
    expect([ok.status, ok.json]).toEqual([200, { reservations: [] }]);
  });
});

describe("airbnb reservations", () => {
  it("a guest books: signed webhook hint, and the authoritative GET returns the reservation", async () => {
    const listing = await newListing();
    const created = await book(listing, day(20), day(23));
    const res = created.reservation;
    expect(res).toEqual({
      confirmation_code: expect.stringMatching(/^HM[A-Z0-9]{8}$/),
      listing_id: listing,
      status: "accepted",
      start_date: day(20),
      end_date: day(23),
      guest: { first_name: "Anna", last_name: "Schmidt" },
      number_of_guests: 2,
      // Priced from the calendar: 3 nights at the listing's 120.00.
      total_price: { amount: "360.00", currency: "EUR" },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(created.calendar_open).toBe(true);

    const [d] = created.deliveries as Delivery[];
    expect(created.deliveries).toHaveLength(1);
    expect(d!.url).toBe("http://engine.test/api/v1/webhooks/airbnb");
    expect(d!.method).toBe("POST");
    expect(d!.headers["Content-Type"]).toBe("application/json");
    expect(
      await verifySignature(env.AIRBNB_WEBHOOK_SECRET, d!.headers["X-Airbnb-Signature"]!, d!.body),
    ).toBe(true);
    expect(await verifySignature("wrong-secret", d!.headers["X-Airbnb-Signature"]!, d!.body)).toBe(
      false,
    );
    const t = Number(/^t=(\d+),/.exec(d!.headers["X-Airbnb-Signature"]!)![1]);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(60);
    expect(JSON.parse(d!.body)).toEqual({
      event_id: expect.stringMatching(/^evt_[a-z0-9]{24}$/),
      event_type: "reservation.created",
      listing_id: listing,
      confirmation_code: res.confirmation_code,
      occurred_at: res.updated_at,
    });

    const token = await airbnbToken();
    const got = await call("GET", `/airbnb/v2/reservations/${res.confirmation_code}`, { token });
    expect([got.status, got.json]).toEqual([200, { reservation: res }]);
    const list = await call("GET", `/airbnb/v2/listings/${listing}/reservations`, { token });
    expect(list.json).toEqual({ reservations: [res] });
  });

  it("modify and cancel bump updated_at strictly and emit updated/cancelled events", async () => {
    const listing = await newListing();
    const token = await airbnbToken();
    const { reservation } = await book(listing, day(30), day(32));
    const code = reservation.confirmation_code as string;
    const modified = await control(
      "POST",
      `/_sandbox/airbnb/reservations/${code}/modify?deliver=none`,
      {
        end_date: day(34),
        guests: 3,
      },
    );
    expect(modified.reservation).toMatchObject({
      status: "accepted",
      end_date: day(34),
      number_of_guests: 3,
    });
    expect(JSON.parse(modified.deliveries[0].body).event_type).toBe("reservation.updated");
    // Back-to-back changes within one millisecond still order: max(now, previous + 1).
    const again = await control(
      "POST",
      `/_sandbox/airbnb/reservations/${code}/modify?deliver=none`,
      {
        guests: 4,
      },
    );
    const cancelled = await control(
      "POST",
      `/_sandbox/airbnb/reservations/${code}/cancel?deliver=none`,
    );
    expect(JSON.parse(cancelled.deliveries[0].body).event_type).toBe("reservation.cancelled");
    const stamps = [
      reservation,
      modified.reservation,
      again.reservation,
      cancelled.reservation,
    ].map((r) => Date.parse(r.updated_at));
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThan(stamps[i - 1]!);

    const got = await call("GET", `/airbnb/v2/reservations/${code}`, { token });
    expect(got.json.reservation).toEqual(cancelled.reservation);
    expect(got.json.reservation.status).toBe("cancelled");
    const twice = await call("POST", `/_sandbox/airbnb/reservations/${code}/cancel?deliver=none`);
    expect(twice.status).toBe(409);
  });

  it("does not refuse a booking on closed nights but reports calendar_open=false; booked nights read unavailable", async () => {
    const listing = await newListing();
    const token = await airbnbToken();
    await book(listing, day(40), day(42));
    const overlapping = await call("POST", "/_sandbox/airbnb/reservations?deliver=none", {
      body: { listing_id: listing, start_date: day(41), end_date: day(43) },
    });
    expect(overlapping.status).toBe(201);
    expect(overlapping.json.calendar_open).toBe(false);
    const cal = await call(
      "GET",
      `/airbnb/v2/listings/${listing}/calendar?start_date=${day(39)}&end_date=${day(43)}`,
      { token },
    );
    expect(cal.json.days.map((d: { availability: string }) => d.availability)).toEqual([
      "available",
      "unavailable",
      "unavailable",
      "unavailable",
      "available",
    ]);
  });

  it("answers 404 for unknown reservations and listings; refuses bad control input", async () => {
    const token = await airbnbToken();
    const r = await call("GET", "/airbnb/v2/reservations/HMNOTHERE1", { token });
    expect([r.status, r.json]).toEqual([404, { error: "not_found" }]);
    const noListing = await call("POST", "/_sandbox/airbnb/reservations?deliver=none", {
      body: { listing_id: "99999999999", start_date: day(5), end_date: day(6) },
    });
    expect(noListing.status).toBe(404);
    const listing = await newListing();
    const backwards = await call("POST", "/_sandbox/airbnb/reservations?deliver=none", {
      body: { listing_id: listing, start_date: day(6), end_date: day(5) },
    });
    expect([backwards.status, backwards.json.error]).toEqual([400, "validation_error"]);
    const badMode = await call("POST", "/_sandbox/airbnb/reservations?deliver=later", {
      body: { listing_id: listing, start_date: day(5), end_date: day(6) },
    });
    expect(badMode.status).toBe(400);
  });
});

describe("airbnb calendar and pricing", () => {
  it("applies availability and prices; never-written days are available at the listing price", async () => {
    const listing = await newListing("99.00");
    const token = await airbnbToken();
    const before = Date.now();
    const put = await putCalendar(listing, token, [
      { start_date: day(10), end_date: day(12), availability: "unavailable" },
    ]);
    expect([put.status, put.json]).toEqual([200, { updated_days: 3 }]);
    const price = await call("PUT", `/airbnb/v2/listings/${listing}/pricing`, {
      token,
      body: {
        operations: [
          { start_date: day(12), end_date: day(13), nightly_price: "150.5", currency: "EUR" },
        ],
      },
    });
    expect([price.status, price.json]).toEqual([200, { updated_days: 2 }]);

    const api = await call(
      "GET",
      `/airbnb/v2/listings/${listing}/calendar?start_date=${day(9)}&end_date=${day(13)}`,
      { token },
    );
    expect(api.json.days).toEqual([
      { date: day(9), availability: "available", nightly_price: "99.00", currency: "EUR" },
      { date: day(10), availability: "unavailable", nightly_price: "99.00", currency: "EUR" },
      { date: day(11), availability: "unavailable", nightly_price: "99.00", currency: "EUR" },
      { date: day(12), availability: "unavailable", nightly_price: "150.50", currency: "EUR" },
      { date: day(13), availability: "available", nightly_price: "150.50", currency: "EUR" },
    ]);

    const ctl = await control(
      "GET",
      `/_sandbox/airbnb/listings/${listing}/calendar?start=${day(9)}&end=${day(10)}`,
    );
    expect(ctl.days[0]).toMatchObject({ date: day(9), available: true, updated_at: null });
    expect(ctl.days[1]).toMatchObject({ date: day(10), available: false, price: "99.00" });
    expect(ctl.days[1].updated_at).toBeGreaterThanOrEqual(before);
    expect(ctl.days[1].updated_at).toBeLessThanOrEqual(Date.now());
  });

  it("enforces the per-call limits with a validation_error naming the problem", async () => {
    const listing = await newListing();
    const token = await airbnbToken();
    const op = (from: number, to: number) => ({
      start_date: day(from),
      end_date: day(to),
      availability: "available",
    });
    const cases: Array<[unknown[], RegExp]> = [
      [Array.from({ length: 51 }, (_, i) => op(i + 1, i + 1)), /at most 50 operations/],
      [[op(1, 200), op(201, 367)], /at most 366 nights/],
      [[op(-3, 2)], /more than 1 day in the past/],
      [
        [{ start_date: "2031-02-30", end_date: "2031-03-01", availability: "available" }],
        /start_date must be a valid/,
      ],
      [[op(5, 4)], /before start_date/],
      [[{ ...op(1, 2), availability: "maybe" }], /availability/],
      [[], /must not be empty/],
    ];
    for (const [ops, message] of cases) {
      const r = await putCalendar(listing, token, ops);
      expect([r.status, r.json.error]).toEqual([400, "validation_error"]);
      expect(r.json.message).toMatch(message);
    }
    // The limits themselves are allowed: 50 operations, 366 nights, yesterday.
    expect(
      (
        await putCalendar(
          listing,
          token,
          Array.from({ length: 50 }, (_, i) => op(i, i)),
        )
      ).status,
    ).toBe(200);
    expect((await putCalendar(listing, token, [op(0, 365)])).json).toEqual({ updated_days: 366 });
    expect((await putCalendar(listing, token, [op(-1, -1)])).status).toBe(200);
    const bad = await call("PUT", `/airbnb/v2/listings/${listing}/pricing`, {
      token,
      body: {
        operations: [{ start_date: day(1), end_date: day(1), nightly_price: 120, currency: "EUR" }],
      },
    });
    expect(bad.json.message).toMatch(/nightly_price/);
    const unknown = await putCalendar("99999999998", token, [op(1, 1)]);
    expect([unknown.status, unknown.json]).toEqual([404, { error: "not_found" }]);
  });

  it("honours Idempotency-Key: a repeat answers the stored response without applying again", async () => {
    const listing = await newListing();
    const token = await airbnbToken();
    const key = `push-${listing}`;
    const close = [{ start_date: day(15), end_date: day(16), availability: "unavailable" }];
    const first = await putCalendar(listing, token, close, key);
    expect([first.status, first.json]).toEqual([200, { updated_days: 2 }]);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const read = async () =>
      (
        await control(
          "GET",
          `/_sandbox/airbnb/listings/${listing}/calendar?start=${day(15)}&end=${day(15)}`,
        )
      ).days[0];
    const stamped = await read();

    // Someone reopens the night; replaying the old request must not close it again.
    await putCalendar(listing, token, [
      { start_date: day(15), end_date: day(15), availability: "available" },
    ]);
    const reopened = await read();
    const replay = await putCalendar(listing, token, close, key);
    expect([replay.status, replay.json]).toEqual([200, { updated_days: 2 }]);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const after = await read();
    expect(after.available).toBe(true);
    expect(after.updated_at).toBe(reopened.updated_at);
    expect(reopened.updated_at).toBeGreaterThanOrEqual(stamped.updated_at);

    const reused = await putCalendar(
      listing,
      token,
      [{ ...close[0], availability: "available" }],
      key,
    );
    expect([reused.status, reused.json.error]).toEqual([422, "idempotency_key_reused"]);

    const log = (await control("GET", "/_sandbox/airbnb/requests?limit=5")).requests;
    expect(log.at(-1)).toMatchObject({
      method: "PUT",
      path: `/airbnb/v2/listings/${listing}/calendar`,
      status: 422,
      idempotency_key: key,
      fault: null,
    });
    const received = (await control("GET", "/_sandbox/airbnb/received?limit=1")).received;
    expect(received).toEqual([
      expect.objectContaining({
        method: "PUT",
        path: `/airbnb/v2/listings/${listing}/calendar`,
        content_type: "application/json",
        body: JSON.stringify({ operations: [{ ...close[0], availability: "available" }] }),
      }),
    ]);
  });
});
