import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  airbnbToken,
  bookingToken,
  call,
  control,
  day,
  type Delivery,
  resetSandbox,
  uniqueDigits,
  verifySignature,
} from "./helpers";

beforeAll(resetSandbox);
afterEach(async () => {
  await control("DELETE", "/_sandbox/airbnb/faults");
  await control("DELETE", "/_sandbox/booking_com/faults");
});

/** Any authorised Airbnb call: 404 when it goes through (the code does not exist). */
const probe = (token: string) => call("GET", "/airbnb/v2/reservations/HMPROBE000", { token });

async function newListing(): Promise<string> {
  const id = uniqueDigits(8);
  await control("PUT", `/_sandbox/airbnb/listings/${id}`, { nightly_price: "80.00" });
  return id;
}

describe("fault injection", () => {
  it("fail_next fails exactly the next n API calls, not OAuth or control calls, and is logged", async () => {
    const token = await airbnbToken();
    const set = await control("POST", "/_sandbox/airbnb/faults", {
      fail_next: 2,
      fail_status: 500,
    });
    expect(set.faults).toMatchObject({ fail_next: 2, fail_status: 500, rate_limit_next: 0 });
    await airbnbToken();
    await control("GET", "/_sandbox/airbnb/faults");
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await probe(token)).status);
    expect(statuses).toEqual([500, 500, 404]);
    expect((await control("GET", "/_sandbox/airbnb/faults")).faults.fail_next).toBe(0);
    const log = (await control("GET", "/_sandbox/airbnb/requests?limit=3")).requests;
    expect(log.map((e: { status: number; fault: string | null }) => [e.status, e.fault])).toEqual([
      [500, "fail_next"],
      [500, "fail_next"],
      [404, null],
    ]);
  });

  it("Booking.com faults answer with an OTA error body", async () => {
    const token = await bookingToken();
    await control("POST", "/_sandbox/booking_com/faults", { fail_next: 1 });
    const r = await call("GET", "/booking_com/ota/OTA_HotelResNotif", { token });
    expect(r.status).toBe(503);
    expect(r.text).toContain("<OTA_HotelResNotifRS");
    expect(r.text).toContain('Code="448" ShortText="SYSTEM_ERROR"');
    expect((await call("GET", "/booking_com/ota/OTA_HotelResNotif", { token })).status).toBe(200);
  });

  it("rate_limit_next answers 429 with the configured Retry-After", async () => {
    const token = await airbnbToken();
    await control("POST", "/_sandbox/airbnb/faults", { rate_limit_next: 1, retry_after: 7 });
    const r = await probe(token);
    expect([r.status, r.headers.get("retry-after"), r.json.error]).toEqual([
      429,
      "7",
      "rate_limited",
    ]);
    expect((await probe(token)).status).toBe(404);
    // Faults merge into the current settings; after a DELETE, Retry-After defaults to 1 s.
    await control("DELETE", "/_sandbox/airbnb/faults");
    await control("POST", "/_sandbox/airbnb/faults", { rate_limit_next: 1 });
    expect((await probe(token)).headers.get("retry-after")).toBe("1");
  });

  it("timeout_next hangs before a 504, long enough for a client timeout to fire first", async () => {
    const token = await airbnbToken();
    await control("POST", "/_sandbox/airbnb/faults", { timeout_next: 2, timeout_ms: 400 });
    const aborted = await fetch("http://sandbox.test/airbnb/v2/reservations/HMPROBE000", {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(100),
    }).then(
      () => "answered",
      (e: Error) => e.name,
    );
    expect(aborted).toBe("TimeoutError");
    const started = Date.now();
    const r = await probe(token);
    expect(r.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect((await probe(token)).status).toBe(404);
  });

  it("latency_ms delays every platform call", async () => {
    const token = await airbnbToken();
    await control("POST", "/_sandbox/airbnb/faults", { latency_ms: 150 });
    const started = Date.now();
    expect((await probe(token)).status).toBe(404);
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
  });

  it("fail_rate fails about that share of calls with 503", async () => {
    const token = await airbnbToken();
    await control("POST", "/_sandbox/airbnb/faults", { fail_rate: 0.3 });
    const N = 200;
    let failed = 0;
    for (let i = 0; i < N; i++) {
      const status = (await probe(token)).status;
      expect([404, 503]).toContain(status);
      if (status === 503) failed += 1;
    }
    // Binomial(200, 0.3): mean 60, sd 6.5; 30..90 is beyond 4.5 sd either way.
    expect(failed).toBeGreaterThanOrEqual(30);
    expect(failed).toBeLessThanOrEqual(90);
    await control("POST", "/_sandbox/airbnb/faults", { fail_rate: 1 });
    expect((await probe(token)).status).toBe(503);
  });

  it("enforce_rate_limit applies the published limits: Airbnb 10/s, Booking.com 20/min", async () => {
    const airbnb = await airbnbToken();
    await control("POST", "/_sandbox/airbnb/faults", { enforce_rate_limit: true });
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await probe(airbnb)).status);
    expect(statuses.slice(0, 10).every((s) => s === 404)).toBe(true);
    expect(statuses[10]).toBe(429);
    await new Promise((r) => setTimeout(r, 1050));
    expect((await probe(airbnb)).status).toBe(404);

    const booking = await bookingToken();
    await control("POST", "/_sandbox/booking_com/faults", { enforce_rate_limit: true });
    const pulls = [];
    for (let i = 0; i < 21; i++) {
      pulls.push(await call("GET", "/booking_com/ota/OTA_HotelResNotif", { token: booking }));
    }
    expect(pulls.slice(0, 20).every((p) => p.status === 200)).toBe(true);
    const limited = pulls[20]!;
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const log = (await control("GET", "/_sandbox/booking_com/requests?limit=1")).requests;
    expect(log[0]).toMatchObject({ status: 429, fault: "enforced_rate_limit" });
  });

  it("faults are validated, shown and cleared", async () => {
    const bad = await call("POST", "/_sandbox/airbnb/faults", { body: { fail_rate: 2 } });
    expect(bad.status).toBe(400);
    const unknown = await call("POST", "/_sandbox/airbnb/faults", { body: { explode: true } });
    expect(unknown.status).toBe(400);
    await control("POST", "/_sandbox/airbnb/faults", { duplicate_webhooks: true, latency_ms: 5 });
    expect((await control("GET", "/_sandbox/airbnb/faults")).faults).toMatchObject({
      duplicate_webhooks: true,
      latency_ms: 5,
    });
    const cleared = await control("DELETE", "/_sandbox/airbnb/faults");
    expect(cleared.faults).toMatchObject({
      duplicate_webhooks: false,
      latency_ms: 0,
      fail_status: 503,
    });
    expect((await call("GET", "/_sandbox/vrbo/faults")).status).toBe(404);
  });
});

describe("webhook delivery faults", () => {
  it("duplicate_webhooks delivers every webhook twice with the same event id and bytes", async () => {
    const listing = await newListing();
    await control("POST", "/_sandbox/airbnb/faults", { duplicate_webhooks: true });
    const created = await control("POST", "/_sandbox/airbnb/reservations?deliver=none", {
      listing_id: listing,
      start_date: day(5),
      end_date: day(6),
    });
    const [a, b] = created.deliveries as Delivery[];
    expect(created.deliveries).toHaveLength(2);
    expect(b).toEqual(a);
    expect(JSON.parse(a!.body).event_id).toMatch(/^evt_/);
  });

  it("reorder_webhooks holds deliveries; flush releases them newest first, freshly signed", async () => {
    const hotel = uniqueDigits(7);
    const room = uniqueDigits(9);
    await control("PUT", `/_sandbox/booking_com/hotels/${hotel}/rooms/${room}`, { units: 1 });
    await control("POST", "/_sandbox/booking_com/faults", { reorder_webhooks: true });
    const created = await control("POST", "/_sandbox/booking_com/reservations?deliver=sync", {
      hotel_id: hotel,
      room_id: room,
      start_date: day(5),
      end_date: day(7),
    });
    // Held, so not sent even in sync mode.
    expect(created.deliveries).toEqual([expect.objectContaining({ held: true })]);
    expect(created.deliveries[0].status).toBeUndefined();
    const id = created.reservation.reservation_id;
    await control("POST", `/_sandbox/booking_com/reservations/${id}/modify?deliver=sync`, {
      guests: 2,
    });
    await control("POST", `/_sandbox/booking_com/reservations/${id}/cancel?deliver=sync`);

    const flushed = (await control("POST", "/_sandbox/booking_com/webhooks/flush?deliver=none"))
      .deliveries as Delivery[];
    expect(flushed.map((d) => JSON.parse(d.body).event_type)).toEqual([
      "reservation.cancelled",
      "reservation.modified",
      "reservation.new",
    ]);
    expect(flushed[2]!.body).toBe(created.deliveries[0].body);
    for (const d of flushed) {
      expect(
        await verifySignature(
          env.BOOKING_COM_WEBHOOK_SECRET,
          d.headers["X-Booking-Signature"]!,
          d.body,
        ),
      ).toBe(true);
    }
    expect(
      (await control("POST", "/_sandbox/booking_com/webhooks/flush?deliver=none")).deliveries,
    ).toEqual([]);
  });

  it("deliver=sync POSTs to ENGINE_URL and reports the outcome per delivery", async () => {
    const listing = await newListing();
    const created = await control("POST", "/_sandbox/airbnb/reservations", {
      listing_id: listing,
      start_date: day(8),
      end_date: day(9),
    });
    const [d] = created.deliveries as Delivery[];
    expect(d!.url).toBe("http://engine.test/api/v1/webhooks/airbnb");
    // engine.test is not reachable from the sandbox in tests: the attempt is reported, not thrown.
    expect(d!.status !== undefined || d!.error !== undefined).toBe(true);
  });
});

describe("reset and health", () => {
  it("reset wipes a platform (or both) including its tokens", async () => {
    const listing = await newListing();
    const hotel = uniqueDigits(7);
    await control("PUT", `/_sandbox/booking_com/hotels/${hotel}/rooms/1`, { units: 1 });
    const token = await airbnbToken();
    await control("POST", "/_sandbox/airbnb/faults", { latency_ms: 1 });

    await control("POST", "/_sandbox/reset?platform=airbnb");
    expect((await control("GET", "/_sandbox/airbnb/requests")).requests).toEqual([]);
    expect((await probe(token)).status).toBe(401);
    const gone = await call(
      "GET",
      `/_sandbox/airbnb/listings/${listing}/calendar?start=${day(1)}&end=${day(1)}`,
    );
    expect(gone.status).toBe(404);
    expect((await control("GET", "/_sandbox/airbnb/faults")).faults.latency_ms).toBe(0);
    const kept = await call(
      "GET",
      `/_sandbox/booking_com/hotels/${hotel}/rooms/1/calendar?start=${day(1)}&end=${day(1)}`,
    );
    expect(kept.status).toBe(200);

    await control("POST", "/_sandbox/reset");
    const wiped = await call(
      "GET",
      `/_sandbox/booking_com/hotels/${hotel}/rooms/1/calendar?start=${day(1)}&end=${day(1)}`,
    );
    expect(wiped.status).toBe(404);
    expect((await call("POST", "/_sandbox/reset?platform=vrbo")).status).toBe(404);
  });

  it("health answers on any host", async () => {
    const r = await fetch("http://127.0.0.1:8788/health");
    expect(await r.json()).toEqual({ ok: true, service: "channel-sandbox" });
  });
});
