import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addDays, daysBetween, type IsoDate } from "../../../../src/domain/dates";
import { calendarCalls, pricingCalls } from "../../../../src/platforms/airbnb/adapter";
import { availabilityWindows, rateWindows } from "../../../../src/platforms/booking-com/adapter";
import { packRuns, runsOf, splitRun, windowsOf } from "../../../../src/platforms/kit/runs";
import type { NightState } from "../../../../src/platforms/contract";

/** Sorted, distinct nights with gaps; values either noisy or long constant stretches. */
const nightsArb: fc.Arbitrary<NightState[]> = fc
  .record({
    start: fc.integer({ min: 0, max: 3000 }).map((d) => addDays("2025-01-01", d)),
    steps: fc.array(
      fc.record({
        gap: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, fc.integer({ min: 2, max: 40 })),
        available: fc.integer({ min: -1, max: 3 }),
        price: fc.option(fc.constantFrom(9900, 12000, 12050), { nil: undefined }),
        repeat: fc.oneof(
          { weight: 6, arbitrary: fc.constant(1) },
          fc.integer({ min: 2, max: 400 }),
        ),
      }),
      { maxLength: 120 },
    ),
  })
  .map(({ start, steps }) => {
    const out: NightState[] = [];
    let date = addDays(start, -1);
    for (const s of steps) {
      date = addDays(date, s.gap);
      for (let i = 0; i < s.repeat; i++) {
        if (i > 0) date = addDays(date, 1);
        out.push({
          date,
          available: s.available,
          ...(s.price !== undefined ? { priceMinor: s.price, currency: "EUR" } : {}),
        });
      }
    }
    return out;
  });

interface Op<V> {
  start: IsoDate;
  end: IsoDate;
  value: V;
}

/** Every night an operation list covers, with the operation's value. */
function expand<V>(ops: readonly Op<V>[]): Array<[IsoDate, V]> {
  return ops.flatMap((op) => {
    const n = daysBetween(op.start, op.end) + 1;
    expect(n).toBeGreaterThan(0);
    return Array.from({ length: n }, (_, i) => [addDays(op.start, i), op.value] as [IsoDate, V]);
  });
}

function nightsIn(ops: readonly Op<unknown>[]): number {
  return ops.reduce((sum, op) => sum + daysBetween(op.start, op.end) + 1, 0);
}

/** Inside one call, two touching operations with one value should have been one operation. */
function expectMaximal<V>(ops: readonly Op<V>[], key: (v: V) => string): void {
  for (let i = 1; i < ops.length; i++) {
    const a = ops[i - 1]!;
    const b = ops[i]!;
    if (daysBetween(a.end, b.start) === 1) expect(key(a.value)).not.toBe(key(b.value));
    else expect(daysBetween(a.end, b.start)).toBeGreaterThan(1);
  }
}

describe("runs (pure)", () => {
  it("runsOf + splitRun + packRuns cover every night exactly once within the limits", () => {
    fc.assert(
      fc.property(
        nightsArb,
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 400 }),
        (nights, maxOps, maxNights) => {
          const runs = runsOf(
            nights.map((n) => ({ date: n.date, value: n.available })),
            String,
          );
          expect(runs.reduce((s, r) => s + r.nights, 0)).toBe(nights.length);
          for (const r of runs) expect(daysBetween(r.start, r.end) + 1).toBe(r.nights);
          const calls = packRuns(runs, { maxOps, maxNights });
          for (const call of calls) {
            expect(call.length).toBeGreaterThan(0);
            expect(call.length).toBeLessThanOrEqual(maxOps);
            expect(nightsIn(call)).toBeLessThanOrEqual(maxNights);
          }
          expect(expand(calls.flat())).toEqual(nights.map((n) => [n.date, n.available]));
        },
      ),
    );
  });

  it("splitRun keeps the run's nights in order", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 400 }), (n, max) => {
        const run = { start: "2026-01-30", end: addDays("2026-01-30", n - 1), nights: n, value: 1 };
        const pieces = splitRun(run, max);
        expect(pieces).toHaveLength(Math.ceil(n / max));
        expect(expand(pieces)).toEqual(expand([run]));
      }),
    );
  });

  it("windowsOf never spans more than the window", () => {
    fc.assert(
      fc.property(nightsArb, fc.integer({ min: 1, max: 40 }), (nights, days) => {
        const windows = windowsOf(nights, days);
        expect(windows.flat()).toEqual(nights);
        for (const w of windows) {
          expect(daysBetween(w[0]!.date, w.at(-1)!.date)).toBeLessThan(days);
        }
      }),
    );
  });
});

describe("Airbnb call shaping", () => {
  it("calendar calls: every night once with its availability; ≤50 operations and ≤366 nights", () => {
    fc.assert(
      fc.property(nightsArb, (nights) => {
        const calls = calendarCalls(nights);
        const ops = calls.map((c) =>
          c.map((o) => ({ start: o.start_date, end: o.end_date, value: o.availability })),
        );
        for (const call of ops) {
          expect(call.length).toBeLessThanOrEqual(50);
          expect(nightsIn(call)).toBeLessThanOrEqual(366);
          expectMaximal(call, String);
        }
        expect(expand(ops.flat())).toEqual(
          nights.map((n) => [n.date, n.available > 0 ? "available" : "unavailable"]),
        );
      }),
    );
  });

  it("pricing calls: exactly the priced nights, each once with its decimal price", () => {
    fc.assert(
      fc.property(nightsArb, (nights) => {
        const calls = pricingCalls(nights);
        const ops = calls.map((c) =>
          c.map((o) => ({
            start: o.start_date,
            end: o.end_date,
            value: `${o.nightly_price} ${o.currency}`,
          })),
        );
        for (const call of ops) {
          expect(call.length).toBeLessThanOrEqual(50);
          expect(nightsIn(call)).toBeLessThanOrEqual(366);
          expectMaximal(call, String);
        }
        const priced = nights.filter((n) => n.priceMinor !== undefined);
        expect(expand(ops.flat())).toEqual(
          priced.map((n) => [n.date, `${(n.priceMinor! / 100).toFixed(2)} EUR`]),
        );
      }),
    );
  });

  it("merges a year of equal nights into one operation", () => {
    const year = Array.from({ length: 365 }, (_, i) => ({
      date: addDays("2026-01-01", i),
      available: 1,
    }));
    expect(calendarCalls(year)).toEqual([
      [{ start_date: "2026-01-01", end_date: "2026-12-31", availability: "available" }],
    ]);
  });
});

describe("Booking.com request shaping", () => {
  it("availability: every night once with BookingLimit = max(0, available); ≤31 days per request", () => {
    fc.assert(
      fc.property(nightsArb, (nights) => {
        const windows = availabilityWindows(nights);
        for (const runs of windows) {
          expect(daysBetween(runs[0]!.start, runs.at(-1)!.end)).toBeLessThan(31);
          expectMaximal(runs, String);
        }
        expect(expand(windows.flat())).toEqual(
          nights.map((n) => [n.date, Math.max(0, n.available)]),
        );
      }),
    );
  });

  it("rates: exactly the priced nights, ≤31 days per request", () => {
    fc.assert(
      fc.property(nightsArb, (nights) => {
        const windows = rateWindows(nights);
        for (const runs of windows) {
          expect(daysBetween(runs[0]!.start, runs.at(-1)!.end)).toBeLessThan(31);
          expectMaximal(runs, (v) => `${v.amountMinor} ${v.currency}`);
        }
        expect(expand(windows.flat())).toEqual(
          nights
            .filter((n) => n.priceMinor !== undefined)
            .map((n) => [n.date, { amountMinor: n.priceMinor, currency: "EUR" }]),
        );
      }),
    );
  });
});
