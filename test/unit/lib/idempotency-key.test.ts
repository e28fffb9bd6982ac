import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pushIdempotencyKey } from "../../../src/lib/idempotency-key";
import { airbnbAdapter } from "../../../src/platforms/airbnb/adapter";
import { beds24Adapter } from "../../../src/platforms/beds24/adapter";
import { bookingComAdapter } from "../../../src/platforms/booking-com/adapter";
import { platformFetch } from "../../../src/platforms/kit/http";
import {
  PlatformError,
  type NightState,
  type PlatformAdapter,
} from "../../../src/platforms/contract";
import { clock, fakeFetch, json } from "../fake-fetch";

/**
 * A push's Idempotency-Key names what it sends: equal requests (under the same marks) share a
 * key, a request with another body never does; and a platform's "key already used with another
 * request" is not a reason to hold a night for long.
 */

const NOW = Date.parse("2027-03-01T12:00:00Z");
const TARGET = { externalPropertyId: "1001", externalRoomId: "2002", externalRatePlanId: "3" };

const nightsArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 12 })
  .chain((days) =>
    fc.tuple(
      ...days
        .sort((a, b) => a - b)
        .map((d) =>
          fc.record({
            date: fc.constant(new Date(NOW + d * 86_400_000).toISOString().slice(0, 10)),
            available: fc.integer({ min: 0, max: 2 }),
            priceMinor: fc.integer({ min: 5_000, max: 5_010 }),
            currency: fc.constant("EUR"),
          }),
        ),
    ),
  ) as fc.Arbitrary<NightState[]>;

const ADAPTERS: Array<[string, PlatformAdapter]> = [
  ["Airbnb", airbnbAdapter],
  ["Booking.com", bookingComAdapter],
  ["Beds24", beds24Adapter],
];

function contents(adapter: PlatformAdapter, nights: NightState[], now = NOW): string[] {
  return adapter
    .planPush(TARGET, { availability: nights, price: nights }, now)
    .calls.map((c) => c.content);
}

describe("pushIdempotencyKey", () => {
  it("is 32 hex digits, the same for the same connection, generation and content", async () => {
    const a = await pushIdempotencyKey("con_1", 7, "PUT /x {}");
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(await pushIdempotencyKey("con_1", 7, "PUT /x {}")).toBe(a);
  });

  it("differs when the connection, the generation or the content does (property)", async () => {
    const input = fc.record({
      connection: fc.constantFrom("con_1", "con_2"),
      generation: fc.integer({ min: 0, max: 3 }),
      content: fc.constantFrom("PUT /a {}", "PUT /a {} ", "PUT /b {}"),
    });
    await fc.assert(
      fc.asyncProperty(input, input, async (x, y) => {
        const kx = await pushIdempotencyKey(x.connection, x.generation, x.content);
        const ky = await pushIdempotencyKey(y.connection, y.generation, y.content);
        const same =
          x.connection === y.connection && x.generation === y.generation && x.content === y.content;
        expect(kx === ky).toBe(same);
      }),
    );
  });
});

describe.each(ADAPTERS)("%s planned calls name their content", (_, adapter) => {
  it("equal nights give equal content, whenever planned (property)", () => {
    fc.assert(
      fc.property(nightsArb, fc.integer({ min: 0, max: 3_600_000 }), (nights, later) => {
        expect(contents(adapter, nights, NOW + later)).toEqual(contents(adapter, nights));
      }),
    );
  });

  it("a night opened or closed changes the content of the call that carries it (property)", () => {
    fc.assert(
      fc.property(nightsArb, fc.nat(), (nights, pick) => {
        const i = pick % nights.length;
        const changed = nights.map((n, j) =>
          j === i ? { ...n, available: n.available > 0 ? 0 : 1 } : n,
        );
        const before = adapter.planPush(TARGET, { availability: nights, price: [] }, NOW).calls;
        const after = adapter.planPush(TARGET, { availability: changed, price: [] }, NOW).calls;
        const carrying = (calls: typeof before) =>
          calls.find((c) => c.dates.includes(nights[i]!.date))?.content;
        expect(carrying(after)).toBeDefined();
        expect(carrying(after)).not.toBe(carrying(before));
      }),
    );
  });
});

describe("Booking.com content leaves out what changes on every send", () => {
  it("has no TimeStamp value and no EchoToken", () => {
    const night: NightState = { date: "2027-03-05", available: 1 };
    const [call] = bookingComAdapter.planPush(
      TARGET,
      { availability: [night], price: [] },
      NOW,
    ).calls;
    expect(call!.content).toContain('TimeStamp=""');
    expect(call!.content).not.toContain("EchoToken");
  });
});

describe("a key the platform saw with another request", () => {
  const url = "http://sandbox.test/airbnb/v2/listings/1/calendar";
  const send = (status: number, body: unknown) => {
    const fake = fakeFetch(() => json(body, status));
    const ctx = {
      fetch: fake.fetch,
      now: clock().now,
      credentials: { clientId: "c", clientSecret: "s" },
    };
    return platformFetch(ctx, "airbnb", url, { method: "PUT" }).then(
      () => null,
      (e: unknown) => e as PlatformError,
    );
  };

  it.each([
    [422, { error: "idempotency_key_reused", message: "This Idempotency-Key was already used" }],
    [409, { error: { code: "idempotency_key_mismatch" } }],
  ])("HTTP %i naming it is transient, not permanent", async (status, body) => {
    const err = await send(status, body);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err!.kind).toBe("transient");
    expect(err!.status).toBe(status);
  });

  it("any other 422 still refuses our input for good", async () => {
    const err = await send(422, { error: "validation_error", message: "end before start" });
    expect(err!.kind).toBe("permanent");
  });
});
