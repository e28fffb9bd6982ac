import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromDayNumber, toDayNumber } from "../../../../src/domain/dates";
import {
  availabilityCalls,
  beds24Adapter,
  earliestAcceptedDate,
  priceCalls,
} from "../../../../src/platforms/beds24/adapter";
import { beds24 } from "../../../../src/platforms/beds24";
import { minorToDecimal } from "../../../../src/platforms/kit/money";
import { adapterFor } from "../../../../src/platforms/registry";
import {
  PlatformError,
  type AdapterContext,
  type NightState,
  type PlannedCall,
  type PushTarget,
} from "../../../../src/platforms/contract";
import { minCalls, runLengths } from "../../../support/push-minimum";
import { fakeFetch, json } from "../../fake-fetch";

/**
 * Beds24 push planning: every dirty night in exactly one call of its aspect, equal neighbours in
 * one `{from, to}` range, an availability body carrying only numAvail and a price body only its
 * price slot, and the fewest calls the request size (≤ 200 ranges, ≤ 366 nights) allows.
 * The bodies are read from what `send` really posts.
 */

const RUNS = { numRuns: 200 };
const BASE = "2027-03-01";
const BASE_DAY = toDayNumber(BASE);
const DAY_MS = 86_400_000;
const NOW = BASE_DAY * DAY_MS + 8 * 3_600_000;
const TARGET: PushTarget = { externalPropertyId: "1001", externalRoomId: "2002" };

interface Entry {
  from: string;
  to: string;
  [k: string]: unknown;
}
interface Item {
  roomId: number;
  calendar: Entry[];
}

// ---- generators ---------------------------------------------------------------------------------

/** Sorted distinct nights within `horizon` days from BASE: blocks and scattered days. */
const datesArb = (horizon: number) =>
  fc
    .array(
      fc.record({
        start: fc.integer({ min: 0, max: horizon - 1 }),
        length: fc.oneof(
          { weight: 3, arbitrary: fc.integer({ min: 1, max: 5 }) },
          { weight: 2, arbitrary: fc.integer({ min: 1, max: 60 }) },
          { weight: 1, arbitrary: fc.integer({ min: 1, max: horizon }) },
        ),
      }),
      { maxLength: 30 },
    )
    .map((blocks) => {
      const days = new Set<number>();
      for (const b of blocks)
        for (let d = b.start; d < Math.min(horizon, b.start + b.length); d++) days.add(d);
      return [...days].sort((a, b) => a - b).map((d) => fromDayNumber(BASE_DAY + d));
    });

/** Values that hold for a while (so runs merge) or change night by night (so calls fill up). */
const nightsArb = (horizon: number) =>
  fc
    .tuple(
      datesArb(horizon),
      fc.array(
        fc.record({
          available: fc.integer({ min: -1, max: 3 }),
          priceMinor: fc.constantFrom(9_900, 12_000, 12_050),
          currency: fc.constantFrom("EUR", "EUR", "JPY"),
          hold: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 40 })),
        }),
        { minLength: 1, maxLength: 400 },
      ),
    )
    .map(([dates, values]) => {
      const out: NightState[] = [];
      let i = 0;
      let left = values[0]!.hold;
      for (const date of dates) {
        if (left === 0) {
          i = (i + 1) % values.length;
          left = values[i]!.hold;
        }
        left -= 1;
        const { available, priceMinor, currency } = values[i]!;
        out.push({ date, available, priceMinor, currency });
      }
      return out;
    });

// ---- independent references ---------------------------------------------------------------------

const availKey = (n: NightState) => String(Math.max(0, n.available));
const priceKey = (n: NightState) => `${n.priceMinor} ${n.currency}`;

function datesIn(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = toDayNumber(from); d <= toDayNumber(to); d++) out.push(fromDayNumber(d));
  return out;
}

/** Run every planned call against a recording fetch; returns each call's posted body. */
async function bodiesOf(calls: readonly PlannedCall[]): Promise<Item[][]> {
  const bodies: Item[][] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (url.endsWith("/authentication/token")) {
      return Response.json({ token: "tok", expiresIn: 86400 });
    }
    const body = JSON.parse(String(init?.body)) as Item[];
    bodies.push(body);
    return Response.json(body.map(() => ({ success: true })));
  }) as typeof globalThis.fetch;
  const ctx: AdapterContext = {
    baseUrl: "http://beds24.test/v2",
    credentials: { clientId: "", clientSecret: "", refreshToken: "r", account: "acct" },
    fetch,
    now: () => NOW,
  };
  for (const c of calls) await c.send(ctx);
  return bodies;
}

describe("planPush: Beds24", () => {
  it("covers each dirty night once per aspect, availability first, in the fewest calls", async () => {
    await fc.assert(
      fc.asyncProperty(nightsArb(365), nightsArb(365), async (avail, price) => {
        const plan = beds24Adapter.planPush(TARGET, { availability: avail, price }, NOW);
        expect(plan.skipped).toEqual([]);
        const aspects = plan.calls.map((c) => c.aspect);
        expect(aspects).toEqual([...aspects].sort()); // "availability" < "price"
        for (const aspect of ["availability", "price"] as const) {
          const expected = (aspect === "availability" ? avail : price).map((n) => n.date);
          const planned = plan.calls.filter((c) => c.aspect === aspect).flatMap((c) => c.dates);
          expect([...planned].sort()).toEqual(expected);
          expect(new Set(planned).size).toBe(planned.length);
        }
        expect(plan.calls.filter((c) => c.aspect === "availability")).toHaveLength(
          minCalls(runLengths(avail, availKey), 200, 366),
        );
        expect(plan.calls.filter((c) => c.aspect === "price")).toHaveLength(
          minCalls(runLengths(price, priceKey), 200, 366),
        );

        const bodies = await bodiesOf(plan.calls);
        expect(bodies).toHaveLength(plan.calls.length);
        const availBy = new Map(avail.map((n) => [n.date, n]));
        const priceBy = new Map(price.map((n) => [n.date, n]));
        bodies.forEach((body, i) => {
          const call = plan.calls[i]!;
          // One room per call, its ranges exactly the call's dates, within the size cap.
          expect(body).toHaveLength(1);
          expect(body[0]!.roomId).toBe(2002);
          const entries = body[0]!.calendar;
          expect(entries.length).toBeGreaterThan(0);
          expect(entries.length).toBeLessThanOrEqual(200);
          expect(entries.flatMap((e) => datesIn(e.from, e.to))).toEqual(call.dates);
          expect(call.dates.length).toBeLessThanOrEqual(366);
          for (const [j, e] of entries.entries()) {
            if (call.aspect === "availability") {
              // Availability never carries a price, and the value holds on every night.
              expect(Object.keys(e).sort()).toEqual(["from", "numAvail", "to"]);
              for (const d of datesIn(e.from, e.to))
                expect(e.numAvail).toBe(Math.max(0, availBy.get(d)!.available));
            } else {
              // Prices never carry numAvail (or anything else).
              expect(Object.keys(e).sort()).toEqual(["from", "price1", "to"]);
              for (const d of datesIn(e.from, e.to)) {
                const n = priceBy.get(d)!;
                expect(e.price1).toBe(Number(minorToDecimal(n.priceMinor!, n.currency!)));
              }
            }
            // Compressed: a range never continues its neighbour with the same value.
            const prev = entries[j - 1];
            if (prev && toDayNumber(e.from) === toDayNumber(prev.to) + 1) {
              const value = (x: Entry) => (call.aspect === "availability" ? x.numAvail : x.price1);
              expect(value(e)).not.toBe(value(prev));
            }
          }
        });
      }),
      RUNS,
    );
  });

  it("table: a constant year is one call per aspect; 201 alternating nights need two", () => {
    const year = Array.from({ length: 365 }, (_, i) => ({
      date: fromDayNumber(BASE_DAY + i),
      available: 1,
      priceMinor: 12_000,
      currency: "EUR",
    }));
    const plan = beds24Adapter.planPush(TARGET, { availability: year, price: year }, NOW);
    expect(plan.calls.map((c) => [c.aspect, c.dates.length])).toEqual([
      ["availability", 365],
      ["price", 365],
    ]);
    const zebra = year.slice(0, 201).map((n, i) => ({ ...n, available: i % 2 }));
    expect(availabilityCalls(zebra).map((c) => c.length)).toEqual([200, 1]);
    expect(priceCalls([])).toEqual([]);
    expect(beds24Adapter.planPush(TARGET, { availability: [], price: [] }, NOW).calls).toEqual([]);
  });

  it("writes the mapped price slot; refuses to guess a bad slot or room id", async () => {
    const nights = [{ date: BASE, available: 2, priceMinor: 1_500, currency: "JPY" }];
    const slot3 = beds24Adapter.planPush(
      { ...TARGET, externalRatePlanId: "3" },
      { availability: [], price: nights },
      NOW,
    );
    const [body] = await bodiesOf(slot3.calls);
    expect(body).toEqual([{ roomId: 2002, calendar: [{ from: BASE, to: BASE, price3: 1500 }] }]);
    const badSlot = beds24Adapter.planPush(
      { ...TARGET, externalRatePlanId: "17" },
      { availability: nights, price: nights },
      NOW,
    );
    expect(badSlot.calls.map((c) => c.aspect)).toEqual(["availability"]);
    expect(badSlot.skipped).toEqual([{ aspect: "price", reason: expect.stringContaining("17") }]);
    const badRoom = beds24Adapter.planPush(
      { ...TARGET, externalRoomId: "R-1" },
      { availability: nights, price: nights },
      NOW,
    );
    expect(badRoom.calls).toEqual([]);
    expect(badRoom.skipped.map((s) => s.aspect)).toEqual(["availability", "price"]);
    // "02002" would reach room 2002 as a number: refused rather than sent to another room.
    const leadingZero = beds24Adapter.planPush(
      { ...TARGET, externalRoomId: "02002" },
      { availability: nights, price: [] },
      NOW,
    );
    expect(leadingZero.calls).toEqual([]);
  });

  it("leaves out nights before yesterday (UTC), which Beds24 refuses", () => {
    expect(earliestAcceptedDate(NOW)).toBe("2027-02-28");
    const nights = ["2027-02-26", "2027-02-27", "2027-02-28", "2027-03-01"].map((date) => ({
      date,
      available: 1,
    }));
    const plan = beds24Adapter.planPush(TARGET, { availability: nights, price: [] }, NOW);
    expect(plan.calls.flatMap((c) => c.dates)).toEqual(["2027-02-28", "2027-03-01"]);
  });
});

/** Answers in order, one per request. */
const scripted = (answers: Array<{ status: number; json: unknown }>) =>
  fakeFetch(() => {
    const next = answers.shift();
    if (!next) throw new Error("unexpected request");
    return json(next.json, next.status);
  });

describe("Beds24 calls", () => {
  const night = [{ date: BASE, available: 1 }];
  const ctxWith = (fetch: typeof globalThis.fetch): AdapterContext => ({
    baseUrl: "http://beds24.test/v2",
    credentials: {
      clientId: "",
      clientSecret: "",
      refreshToken: "r",
      account: `a${Math.random()}`,
    },
    fetch,
    now: () => NOW,
  });

  it("a refused room item is a permanent error naming it; a refused refresh token is auth", async () => {
    const [call] = beds24Adapter.planPush(TARGET, { availability: night, price: [] }, NOW).calls;
    const refused = scripted([
      { status: 200, json: { token: "t", expiresIn: 86400 } },
      { status: 200, json: [{ success: false, errors: [{ message: "room not found" }] }] },
    ]);
    await expect(call!.send(ctxWith(refused.fetch))).rejects.toMatchObject({
      kind: "permanent",
      message: expect.stringContaining("room not found"),
    });
    const badToken = scripted([{ status: 400, json: { success: false, error: "invalid" } }]);
    const err = await call!.send(ctxWith(badToken.fetch)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ kind: "auth", status: 400 });
  });

  it("sends the token header (never a bearer) and the refresh token only to /authentication/token", async () => {
    const [call] = beds24Adapter.planPush(TARGET, { availability: night, price: [] }, NOW).calls;
    const rec = scripted([
      { status: 200, json: { token: "access-1", expiresIn: 86400 } },
      { status: 200, json: [{ success: true }] },
    ]);
    await call!.send(ctxWith(rec.fetch));
    const [mint, post] = rec.requests;
    expect(mint!.url.href).toBe("http://beds24.test/v2/authentication/token");
    expect(mint!.headers.get("refreshtoken")).toBe("r");
    expect(post!.url.href).toBe("http://beds24.test/v2/inventory/rooms/calendar");
    expect(post!.headers.get("token")).toBe("access-1");
    expect(post!.headers.get("authorization")).toBeNull();
    expect(post!.headers.get("refreshtoken")).toBeNull();
  });

  it("fetchBookings says clearly that booking import is not supported", async () => {
    // The module declares push only; the gate's adapter view answers a fetch in these words.
    expect(beds24.fetchBookings).toBeUndefined();
    await expect(
      adapterFor("beds24").fetchBookings(ctxWith(scripted([]).fetch), {
        eventId: "e",
        eventType: "x",
      }),
    ).rejects.toMatchObject({
      kind: "permanent",
      message: expect.stringContaining("not supported"),
    });
  });
});
