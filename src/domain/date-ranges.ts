import { fromDayNumber, toDayNumber, type DateRange, type IsoDate } from "./dates";

/**
 * Merge ranges that overlap or touch into the fewest disjoint ranges, sorted by start.
 * Pure; the ChannelGate uses it to turn many dirty marks into few pushes.
 */
export function coalesceRanges(ranges: readonly DateRange[]): DateRange[] {
  const sorted = ranges
    .map((r) => [toDayNumber(r.start), toDayNumber(r.end)] as const)
    .filter(([s, e]) => e >= s)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Array<[number, number]> = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out.map(([s, e]) => ({ start: fromDayNumber(s), end: fromDayNumber(e) }));
}

/** Group sorted distinct dates into maximal runs of consecutive days. */
export function datesToRanges(dates: readonly IsoDate[]): DateRange[] {
  return coalesceRanges(dates.map((d) => ({ start: d, end: d })));
}

/** Every date of the ranges, ascending, without repeats. */
export function expandRanges(ranges: readonly DateRange[]): IsoDate[] {
  const out: IsoDate[] = [];
  for (const r of coalesceRanges(ranges)) {
    for (let d = toDayNumber(r.start); d <= toDayNumber(r.end); d++) out.push(fromDayNumber(d));
  }
  return out;
}

/** Split a range into pieces of at most `maxDays` days (platform request-size limits). */
export function splitRange(range: DateRange, maxDays: number): DateRange[] {
  const out: DateRange[] = [];
  const end = toDayNumber(range.end);
  for (let s = toDayNumber(range.start); s <= end; s += maxDays) {
    out.push({ start: fromDayNumber(s), end: fromDayNumber(Math.min(end, s + maxDays - 1)) });
  }
  return out;
}

/** The part of `range` inside [from, to], or null. */
export function clipRange(range: DateRange, from: IsoDate, to: IsoDate): DateRange | null {
  const start = range.start > from ? range.start : from;
  const end = range.end < to ? range.end : to;
  return start <= end ? { start, end } : null;
}
