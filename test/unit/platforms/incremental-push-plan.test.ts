import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { firstCalls } from "../../../durable-objects/channel-gate/flush-plan";
import { fromDayNumber, toDayNumber } from "../../../src/domain/dates";
import { airbnbAdapter } from "../../../src/platforms/airbnb/adapter";
import { beds24Adapter } from "../../../src/platforms/beds24/adapter";
import { bookingComAdapter } from "../../../src/platforms/booking-com/adapter";
import type {
  NightAspect,
  NightState,
  PlannedCall,
  PlatformAdapter,
  PushTarget,
} from "../../../src/platforms/contract";

/**
 * The gate plans a flush incrementally (durable-objects/channel-gate/planner.ts): it reads pending
 * nights a slice at a time and stops once it has the calls that may leave now. That is only
 * sound if those calls are exactly the first calls of the plan over every pending night, for
 * every platform's packing (Booking.com's 31-day windows, Airbnb's and Beds24's calls of runs).
 * Here, for any nights and values and any budget, the incremental plan equals the whole plan's
 * prefix, request body for request body, and reads no more than it needs.
 */

const RUNS = { numRuns: 150 };
const BASE = "2027-03-01";
const BASE_DAY = toDayNumber(BASE);
const NOW = (BASE_DAY - 1) * 86_400_000 + 8 * 3_600_000;
const TARGET: PushTarget = {
  externalPropertyId: "1001",
  externalRoomId: "2002",
  externalRatePlanId: "3",
};

const ADAPTERS: PlatformAdapter[] = [bookingComAdapter, airbnbAdapter, beds24Adapter];

/** Sorted distinct nights over a year and a half, sparse to dense, with values in stretches. */
const nightsArb: fc.Arbitrary<NightState[]> = fc
  .record({
    density: fc.constantFrom(1, 2, 5, 30),
    count: fc.integer({ min: 0, max: 900 }),
    values: fc.array(
      fc.record({
        available: fc.integer({ min: 0, max: 2 }),
        priceMinor: fc.constantFrom(9_900, 12_000),
        repeat: fc.integer({ min: 1, max: 40 }),
      }),
      { minLength: 1, maxLength: 60 },
    ),
    seed: fc.integer(),
  })
  .map(({ density, count, values, seed }) => {
    const days = new Set<number>();
    let x = seed >>> 0;
    for (let i = 0; i < count; i++) {
      x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
      // Dense stretches (density 1) and scattered nights (30): packing hits both of its limits.
      const day = density === 1 ? i : x % (count * density + 1);
      if (day < 540) days.add(day);
    }
    const sorted = [...days].sort((a, b) => a - b);
    const out: NightState[] = [];
    let v = 0;
    let left = values[0]!.repeat;
    for (const d of sorted) {
      if (left === 0) {
        v = (v + 1) % values.length;
        left = values[v]!.repeat;
      }
      left -= 1;
      const { available, priceMinor } = values[v]!;
      out.push({ date: fromDayNumber(BASE_DAY + d), available, priceMinor, currency: "EUR" });
    }
    return out;
  });

function planOf(adapter: PlatformAdapter, aspect: NightAspect, nights: NightState[]) {
  const dirty =
    aspect === "availability"
      ? { availability: nights, price: [] }
      : { availability: [], price: nights };
  return adapter.planPush(TARGET, dirty, NOW).calls;
}

const shape = (calls: readonly PlannedCall[]) =>
  calls.map((c) => ({ aspect: c.aspect, dates: c.dates, content: c.content }));

describe("incremental push planning (firstCalls)", () => {
  for (const adapter of ADAPTERS) {
    for (const aspect of ["availability", "price"] as const) {
      it(`${adapter.platform} ${aspect}: the first calls read a slice at a time are the whole plan's first calls`, async () => {
        await fc.assert(
          fc.asyncProperty(nightsArb, fc.integer({ min: 1, max: 6 }), async (nights, maxCalls) => {
            const whole = planOf(adapter, aspect, nights);
            let read = 0;
            const incremental = await firstCalls(
              nights.length,
              adapter.maxNightsPerCall,
              maxCalls,
              async (from, to) => {
                expect(from).toBe(read); // slices in order, none skipped or read twice
                read = to;
                return planOf(adapter, aspect, nights.slice(0, to));
              },
            );
            expect(shape(incremental ?? [])).toEqual(shape(whole.slice(0, maxCalls)));
            // One slice: a call carries at most maxNightsPerCall nights, so a slice of one call
            // more than the budget always plans enough; a backlog is never read whole.
            expect(read).toBe(Math.min(nights.length, (maxCalls + 1) * adapter.maxNightsPerCall));
          }),
          RUNS,
        );
      });
    }
  }

  it("a room type that is gone (null) ends the planning with null", async () => {
    const calls = await firstCalls(100, 31, 2, async () => null);
    expect(calls).toBeNull();
  });

  it("a backlog of a year reads one slice when the budget is one call", async () => {
    const year = Array.from({ length: 365 }, (_, i) => ({
      date: fromDayNumber(BASE_DAY + i),
      available: i % 2,
    }));
    const reads: Array<[number, number]> = [];
    const calls = await firstCalls(365, bookingComAdapter.maxNightsPerCall, 1, async (from, to) => {
      reads.push([from, to]);
      return planOf(bookingComAdapter, "availability", year.slice(0, to));
    });
    expect(reads).toEqual([[0, 62]]);
    expect(calls?.map((c) => [c.dates[0], c.dates.at(-1)])).toEqual([
      [BASE, fromDayNumber(BASE_DAY + 30)],
    ]);
  });
});
