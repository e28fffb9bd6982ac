import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { coalesceRanges, expandRanges } from "../../../src/domain/date-ranges";
import { addDays, fromDayNumber, toDayNumber, type DateRange } from "../../../src/domain/dates";
import { airbnbAdapter, calendarCalls, pricingCalls } from "../../../src/platforms/airbnb/adapter";
import {
  availabilityWindows,
  bookingComAdapter,
  earliestAcceptedDate,
  rateWindows,
} from "../../../src/platforms/booking-com/adapter";
import { minorToDecimal } from "../../../src/platforms/kit/money";
import type {
  NightState,
  PlannedCall,
  PushPlan,
  PushTarget,
} from "../../../src/platforms/contract";
import { minCalls, minWindows, runLengths } from "../../support/push-minimum";

/**
 * The adapters' push planning (planPush): what each planned request covers, in what order, and
 * that the plan uses the fewest requests the platform's limits allow. Nothing is sent.
 */

const RUNS = { numRuns: 200 };
const BASE = "2027-03-01";
const BASE_DAY = toDayNumber(BASE);
const DAY_MS = 86_400_000;
const TARGET: PushTarget = { externalPropertyId: "1001", externalRoomId: "2002" };
const WITH_RATE: PushTarget = { ...TARGET, externalRatePlanId: "3003" };

// ---- generators -------------------------------------------------------------------------------

/**
 * Ranges that overlap, touch and stand apart, all within `horizon` days from BASE, turned into
 * sorted distinct nights with expandRanges (which coalesces them).
 */
function datesArb(horizon: number): fc.Arbitrary<string[]> {
  const piece = fc.record({
    mode: fc.constantFrom("anywhere", "adjacent", "overlapping", "gap"),
    offset: fc.integer({ min: 0, max: horizon - 1 }),
    gap: fc.integer({ min: 2, max: 40 }),
    length: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 10 }) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 60 }) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: horizon }) },
    ),
  });
  return fc.array(piece, { maxLength: 25, size: "medium" }).map((pieces) => {
    const ranges: DateRange[] = [];
    let prev: [number, number] | undefined;
    for (const p of pieces) {
      let start = p.offset;
      if (prev && p.mode === "adjacent") start = prev[1] + 1;
      if (prev && p.mode === "overlapping") start = prev[0] + (p.offset % (prev[1] - prev[0] + 1));
      if (prev && p.mode === "gap") start = prev[1] + p.gap;
      const end = Math.min(horizon - 1, start + p.length - 1);
      if (start > horizon - 1) continue;
      ranges.push({ start: fromDayNumber(BASE_DAY + start), end: fromDayNumber(BASE_DAY + end) });
      prev = [start, end];
    }
    // Sorted, distinct nights: the overlaps and adjacencies merged (expandRanges coalesces).
    return expandRanges(coalesceRanges(ranges));
  });
}

interface Value {
  available: number;
  priceMinor: number;
  currency: string;
}

/** Values in stretches: long constant runs and night-by-night noise, from small sets. */
const valueArb = (repeat: fc.Arbitrary<number>) =>
  fc.record({
    available: fc.integer({ min: -1, max: 3 }),
    priceMinor: fc.constantFrom(9_900, 12_000, 12_050),
    currency: fc.constantFrom("EUR", "EUR", "JPY"),
    repeat,
  });
const valuesArb = fc.oneof(
  fc.array(
    valueArb(
      fc.oneof(
        { weight: 3, arbitrary: fc.constant(1) },
        { weight: 2, arbitrary: fc.integer({ min: 2, max: 30 }) },
        { weight: 1, arbitrary: fc.integer({ min: 31, max: 400 }) },
      ),
    ),
    { minLength: 1, maxLength: 20 },
  ),
  // Night-by-night noise for a year: well past 50 runs, so past one Airbnb call.
  fc.array(valueArb(fc.integer({ min: 1, max: 3 })), {
    minLength: 1,
    maxLength: 400,
    size: "max",
  }),
);

function nightsOf(dates: readonly string[], values: readonly (Value & { repeat: number })[]) {
  const out: NightState[] = [];
  let i = 0;
  let left = values[0]!.repeat;
  for (const date of dates) {
    if (left === 0 && i < values.length - 1) {
      i += 1;
      left = values[i]!.repeat;
    }
    left = Math.max(0, left - 1);
    const v = values[i]!;
    out.push({ date, available: v.available, priceMinor: v.priceMinor, currency: v.currency });
  }
  return out;
}

interface Dirty {
  availability: NightState[];
  price: NightState[];
}

function dirtyArb(horizon: number): fc.Arbitrary<Dirty> {
  return fc
    .record({
      availability: fc.tuple(datesArb(horizon), valuesArb),
      price: fc.tuple(datesArb(horizon), valuesArb),
    })
    .map(({ availability, price }) => ({
      availability: nightsOf(...availability),
      price: nightsOf(...price),
    }));
}

/** "now" from a few days before the dirty nights start to well into them, any time of day. */
const nowArb = fc.oneof(
  fc.integer({ min: -5 * DAY_MS, max: 60 * DAY_MS }).map((ms) => BASE_DAY * DAY_MS + ms),
  fc.integer({ min: -3, max: 10 }).map((d) => (BASE_DAY + d) * DAY_MS),
  fc.integer({ min: -3, max: 10 }).map((d) => (BASE_DAY + d) * DAY_MS - 1),
);

// ---- independent reference computations -------------------------------------------------------

/** Every date from start to end, inclusive. */
function datesIn(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = toDayNumber(start); d <= toDayNumber(end); d++) out.push(fromDayNumber(d));
  return out;
}

const datesOf = (nights: readonly NightState[]) => nights.map((n) => n.date);

const airbnbAvailabilityKey = (n: NightState) => String(n.available > 0);
const priceKey = (n: NightState) => `${n.priceMinor} ${n.currency}`;
const bookingAvailabilityKey = (n: NightState) => String(Math.max(0, n.available));

// ---- shared checks ---------------------------------------------------------------------------

function callsOf(plan: PushPlan, aspect: PlannedCall["aspect"]): PlannedCall[] {
  return plan.calls.filter((c) => c.aspect === aspect);
}

/** Each expected date in exactly one call of the aspect, and nothing else in them. */
function expectExactCover(calls: readonly PlannedCall[], expected: readonly NightState[]): void {
  const planned = calls.flatMap((c) => c.dates);
  expect([...planned].sort()).toEqual(expected.map((n) => n.date));
  expect(new Set(planned).size).toBe(planned.length);
}

function expectAvailabilityFirst(plan: PushPlan): void {
  const aspects = plan.calls.map((c) => c.aspect);
  const lastAvailability = aspects.lastIndexOf("availability");
  const firstPrice = aspects.indexOf("price");
  if (lastAvailability >= 0 && firstPrice >= 0) expect(lastAvailability).toBeLessThan(firstPrice);
}

function spanDays(call: PlannedCall): number {
  const days = call.dates.map(toDayNumber);
  return Math.max(...days) - Math.min(...days) + 1;
}

// ---- Booking.com ------------------------------------------------------------------------------

describe("planPush: Booking.com", () => {
  const plan = (target: PushTarget, dirty: Dirty, now: number) =>
    bookingComAdapter.planPush(target, dirty, now);
  /** Yesterday in UTC, computed here without the adapter's helper. */
  const cutoffOf = (now: number) => new Date(now - DAY_MS).toISOString().slice(0, 10);
  const sendable = (nights: NightState[], now: number) =>
    nights.filter((n) => n.date >= cutoffOf(now));

  it("earliestAcceptedDate is yesterday in UTC", () => {
    expect(earliestAcceptedDate(Date.parse("2027-03-10T00:00:00Z"))).toBe("2027-03-09");
    expect(earliestAcceptedDate(Date.parse("2027-03-09T23:59:59.999Z"))).toBe("2027-03-08");
    expect(earliestAcceptedDate(Date.parse("2028-03-01T12:00:00Z"))).toBe("2028-02-29");
    fc.assert(
      fc.property(nowArb, (now) => {
        expect(earliestAcceptedDate(now)).toBe(cutoffOf(now));
      }),
      RUNS,
    );
  });

  it("covers every sendable night once, availability first, in the fewest ≤31-day requests", () => {
    fc.assert(
      fc.property(dirtyArb(365), nowArb, (dirty, now) => {
        const p = plan(WITH_RATE, dirty, now);
        const availability = sendable(dirty.availability, now);
        const price = sendable(dirty.price, now);
        expectExactCover(callsOf(p, "availability"), availability);
        expectExactCover(callsOf(p, "price"), price);
        expectAvailabilityFirst(p);
        expect(p.skipped).toEqual([]);
        const cutoff = earliestAcceptedDate(now);
        for (const call of p.calls) {
          expect(call.dates.length).toBeGreaterThan(0);
          expect(spanDays(call)).toBeLessThanOrEqual(31);
          // Nights Booking.com would refuse (before yesterday) are never planned.
          expect(call.dates.filter((d) => d < cutoff)).toEqual([]);
          const sorted = [...call.dates].sort();
          expect(call.label).toContain(`${sorted[0]}..${sorted.at(-1)}`);
        }
        // The requests carry these runs (same order, same nights).
        const bodies = [...availabilityWindows(availability), ...rateWindows(price)];
        expect(p.calls.map((c) => c.dates)).toEqual(
          bodies.map((runs) => runs.flatMap((r) => datesIn(r.start, r.end))),
        );
        // The fewest 31-day windows for each aspect.
        expect(callsOf(p, "availability")).toHaveLength(minWindows(datesOf(availability), 31));
        expect(callsOf(p, "price")).toHaveLength(minWindows(datesOf(price), 31));
      }),
      RUNS,
    );
  });

  it("sends the right values: rooms left (never negative) and prices, per run", () => {
    fc.assert(
      fc.property(dirtyArb(365), (dirty) => {
        const wrong: string[] = [];
        const byDate = new Map(dirty.availability.map((n) => [n.date, n]));
        const windows = availabilityWindows(dirty.availability);
        for (const runs of windows) {
          for (const r of runs)
            for (const d of datesIn(r.start, r.end))
              if (r.value !== Math.max(0, byDate.get(d)!.available)) wrong.push(`avail ${d}`);
          // Runs inside one request are maximal: neighbours differ or are apart.
          for (let i = 1; i < runs.length; i++)
            if (
              runs[i]!.value === runs[i - 1]!.value &&
              toDayNumber(runs[i]!.start) === toDayNumber(runs[i - 1]!.end) + 1
            )
              wrong.push(`split run at ${runs[i]!.start}`);
        }
        expect(windows.flat()).toHaveLength(
          windowsRunCount(dirty.availability, bookingAvailabilityKey),
        );
        const prices = new Map(dirty.price.map((n) => [n.date, n]));
        for (const r of rateWindows(dirty.price).flat())
          for (const d of datesIn(r.start, r.end))
            if (r.value.amountMinor !== prices.get(d)!.priceMinor) wrong.push(`price ${d}`);
            else if (r.value.currency !== prices.get(d)!.currency) wrong.push(`currency ${d}`);
        expect(wrong).toEqual([]);
      }),
      RUNS,
    );
  });

  it("holds back prices when the room has no rate plan mapped", () => {
    fc.assert(
      fc.property(dirtyArb(365), nowArb, (dirty, now) => {
        const p = plan(TARGET, dirty, now);
        expect(callsOf(p, "price")).toEqual([]);
        expectExactCover(callsOf(p, "availability"), sendable(dirty.availability, now));
        if (sendable(dirty.price, now).length > 0) {
          expect(p.skipped).toEqual([{ aspect: "price", reason: expect.any(String) }]);
        } else {
          expect(p.skipped).toEqual([]);
        }
      }),
      RUNS,
    );
  });

  it("table: 31 nights are one request, 32 are two; a 31-day span is the limit", () => {
    const nights = (from: string, count: number, step = 1): NightState[] =>
      Array.from({ length: count }, (_, i) => ({
        date: addDays(from, i * step),
        available: 1,
      }));
    const now = Date.parse(`${BASE}T08:00:00Z`);
    const count = (ns: NightState[]) =>
      plan(TARGET, { availability: ns, price: [] }, now).calls.length;
    expect(count(nights(BASE, 31))).toBe(1);
    expect(count(nights(BASE, 32))).toBe(2);
    expect(count([...nights(BASE, 1), ...nights(addDays(BASE, 30), 1)])).toBe(1);
    expect(count([...nights(BASE, 1), ...nights(addDays(BASE, 31), 1)])).toBe(2);
    expect(count(nights(BASE, 12, 30))).toBe(6);
    expect(count(nights(addDays(BASE, -1), 1))).toBe(1);
    expect(count(nights(addDays(BASE, -2), 2))).toBe(1);
    expect(count([])).toBe(0);
  });
});

/** Runs per 31-day window, counted independently (a window cut also ends a run). */
function windowsRunCount(nights: readonly NightState[], key: (n: NightState) => string): number {
  let count = 0;
  let end = Number.NEGATIVE_INFINITY;
  let prev: { day: number; key: string } | undefined;
  for (const n of nights) {
    const day = toDayNumber(n.date);
    const newWindow = day > end;
    if (newWindow) end = day + 30;
    if (newWindow || !prev || day !== prev.day + 1 || key(n) !== prev.key) count += 1;
    prev = { day, key: key(n) };
  }
  return count;
}

// ---- Airbnb -----------------------------------------------------------------------------------

describe("planPush: Airbnb", () => {
  const plan = (dirty: Dirty, now: number) => airbnbAdapter.planPush(TARGET, dirty, now);
  const opsInLabel = (call: PlannedCall) => Number(/\((\d+) ops\)$/.exec(call.label)?.[1]);

  function checkPlan(dirty: Dirty, now: number): PushPlan {
    const p = plan(dirty, now);
    // Airbnb takes past nights as given: the gate drops nights before the property's today.
    expectExactCover(callsOf(p, "availability"), dirty.availability);
    expectExactCover(callsOf(p, "price"), dirty.price);
    expectAvailabilityFirst(p);
    expect(p.skipped).toEqual([]);
    // The bodies planPush sends are these (same order, same nights).
    const bodies = [...calendarCalls(dirty.availability), ...pricingCalls(dirty.price)];
    expect(bodies).toHaveLength(p.calls.length);
    p.calls.forEach((call, i) => {
      const ops = bodies[i]!;
      expect(ops.length).toBeGreaterThan(0);
      expect(ops.length).toBeLessThanOrEqual(50);
      expect(opsInLabel(call)).toBe(ops.length);
      expect(call.dates.length).toBeLessThanOrEqual(366);
      expect(ops.flatMap((o) => datesIn(o.start_date, o.end_date))).toEqual(call.dates);
    });
    return p;
  }

  it("covers every dirty night once, availability first, in the fewest calls the limits allow", () => {
    fc.assert(
      fc.property(dirtyArb(365), nowArb, (dirty, now) => {
        const p = checkPlan(dirty, now);
        expect(callsOf(p, "availability")).toHaveLength(
          minCalls(runLengths(dirty.availability, airbnbAvailabilityKey), 50, 366),
        );
        expect(callsOf(p, "price")).toHaveLength(
          minCalls(runLengths(dirty.price, priceKey), 50, 366),
        );
      }),
      RUNS,
    );
  });

  it("sends the right values in each operation", () => {
    fc.assert(
      fc.property(dirtyArb(365), (dirty) => {
        const wrong: string[] = [];
        const avail = new Map(dirty.availability.map((n) => [n.date, n]));
        for (const op of calendarCalls(dirty.availability).flat())
          for (const d of datesIn(op.start_date, op.end_date))
            if (op.availability !== (avail.get(d)!.available > 0 ? "available" : "unavailable"))
              wrong.push(`avail ${d}`);
        const price = new Map(dirty.price.map((n) => [n.date, n]));
        for (const op of pricingCalls(dirty.price).flat())
          for (const d of datesIn(op.start_date, op.end_date)) {
            const n = price.get(d)!;
            if (op.nightly_price !== minorToDecimal(n.priceMinor!, n.currency!)) wrong.push(d);
            if (op.currency !== n.currency) wrong.push(`currency ${d}`);
          }
        expect(wrong).toEqual([]);
      }),
      RUNS,
    );
  });

  it("a night without a price is left out of the price calls", () => {
    const dirty: Dirty = {
      availability: [],
      price: [
        { date: BASE, available: 1, priceMinor: 10_000, currency: "EUR" },
        { date: addDays(BASE, 1), available: 1 },
        { date: addDays(BASE, 2), available: 1, priceMinor: 10_000 },
        { date: addDays(BASE, 3), available: 1, priceMinor: 10_000, currency: "EUR" },
      ],
    };
    const p = plan(dirty, 0);
    expect(p.calls.map((c) => c.dates)).toEqual([[BASE, addDays(BASE, 3)]]);
  });

  it("table: 50 runs are one call, 51 are two; 366 nights are one call, 367 are two", () => {
    const alternating = (count: number): NightState[] =>
      Array.from({ length: count }, (_, i) => ({ date: addDays(BASE, i), available: i % 2 }));
    const same = (count: number): NightState[] =>
      Array.from({ length: count }, (_, i) => ({ date: addDays(BASE, i), available: 1 }));
    const calls = (availability: NightState[]) => plan({ availability, price: [] }, 0).calls;
    expect(calls(alternating(50))).toHaveLength(1);
    expect(calls(alternating(51))).toHaveLength(2);
    expect(calls(alternating(100))).toHaveLength(2);
    expect(calls(alternating(101))).toHaveLength(3);
    expect(calls(same(366))).toHaveLength(1);
    expect(calls(same(367)).map((c) => c.dates.length)).toEqual([366, 1]);
    expect(calls(same(733)).map((c) => c.dates.length)).toEqual([366, 366, 1]);
    expect(calls([])).toEqual([]);
  });

  it("over the longest horizon (730 days) stays within the limits with the fewest calls", () => {
    fc.assert(
      fc.property(dirtyArb(733), nowArb, (dirty, now) => {
        const p = checkPlan(dirty, now);
        const runs = runLengths(dirty.availability, airbnbAvailabilityKey);
        expect(callsOf(p, "availability")).toHaveLength(minCalls(runs, 50, 366));
        expect(callsOf(p, "price")).toHaveLength(
          minCalls(runLengths(dirty.price, priceKey), 50, 366),
        );
      }),
      { numRuns: 100 },
    );
  });

  // A run that does not fit the rest of a call fills it and goes on in the next.
  it("uses the fewest calls beyond 366 nights too", () => {
    // 200 nights open, 200 closed, 200 open: [200 + 166] and [34 + 200] would do.
    const availability = Array.from({ length: 600 }, (_, i) => ({
      date: addDays(BASE, i),
      available: Math.floor(i / 200) === 1 ? 0 : 1,
    }));
    expect(plan({ availability, price: [] }, 0).calls).toHaveLength(
      minCalls([200, 200, 200], 50, 366),
    );
  });
});
