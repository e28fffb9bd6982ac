import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  clipRange,
  coalesceRanges,
  expandRanges,
  splitRange,
} from "../../../src/domain/date-ranges";
import { addDays, fromDayNumber, nightsOf, toDayNumber } from "../../../src/domain/dates";

const BASE = toDayNumber("2027-01-01");
const range = fc
  .tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 40 }))
  .map(([s, len]) => ({ start: fromDayNumber(BASE + s), end: fromDayNumber(BASE + s + len) }));

function naiveDays(ranges: { start: string; end: string }[]): string[] {
  const set = new Set<string>();
  for (const r of ranges)
    for (let d = toDayNumber(r.start); d <= toDayNumber(r.end); d++) set.add(fromDayNumber(d));
  return [...set].sort();
}

describe("date range coalescing", () => {
  it("covers exactly the same days as its input", () => {
    fc.assert(
      fc.property(fc.array(range, { maxLength: 30 }), (ranges) => {
        expect(expandRanges(coalesceRanges(ranges))).toEqual(naiveDays(ranges));
      }),
    );
  });

  it("returns sorted ranges that neither overlap nor touch", () => {
    fc.assert(
      fc.property(fc.array(range, { maxLength: 30 }), (ranges) => {
        const out = coalesceRanges(ranges);
        for (let i = 1; i < out.length; i++) {
          expect(toDayNumber(out[i]!.start)).toBeGreaterThan(toDayNumber(out[i - 1]!.end) + 1);
        }
      }),
    );
  });

  it("merges overlapping and adjacent ranges, keeps disjoint ones", () => {
    expect(
      coalesceRanges([
        { start: "2027-01-05", end: "2027-01-07" },
        { start: "2027-01-01", end: "2027-01-03" },
        { start: "2027-01-04", end: "2027-01-04" },
        { start: "2027-01-10", end: "2027-01-12" },
        { start: "2027-01-11", end: "2027-01-11" },
      ]),
    ).toEqual([
      { start: "2027-01-01", end: "2027-01-07" },
      { start: "2027-01-10", end: "2027-01-12" },
    ]);
  });

  it("is idempotent and order-independent", () => {
    fc.assert(
      fc.property(fc.array(range, { maxLength: 20 }), (ranges) => {
        const once = coalesceRanges(ranges);
        expect(coalesceRanges(once)).toEqual(once);
        expect(coalesceRanges([...ranges].reverse())).toEqual(once);
      }),
    );
  });

  it("splits into pieces no longer than the limit that cover the range exactly", () => {
    fc.assert(
      fc.property(range, fc.integer({ min: 1, max: 40 }), (r, max) => {
        const parts = splitRange(r, max);
        expect(expandRanges(parts)).toEqual(naiveDays([r]));
        for (const p of parts)
          expect(toDayNumber(p.end) - toDayNumber(p.start) + 1).toBeLessThanOrEqual(max);
      }),
    );
  });

  it("clips to a window", () => {
    expect(
      clipRange({ start: "2027-01-01", end: "2027-01-10" }, "2027-01-05", "2027-02-01"),
    ).toEqual({
      start: "2027-01-05",
      end: "2027-01-10",
    });
    expect(
      clipRange({ start: "2027-01-01", end: "2027-01-03" }, "2027-01-05", "2027-02-01"),
    ).toBeNull();
  });

  it("counts the nights of a stay without the check-out day", () => {
    expect(nightsOf("2027-02-27", "2027-03-02")).toEqual([
      "2027-02-27",
      "2027-02-28",
      "2027-03-01",
    ]);
    expect(addDays("2028-02-28", 1)).toBe("2028-02-29");
  });
});
