import { addDays, daysBetween, type IsoDate } from "../../domain/dates";

/**
 * Pure shaping of per-night values into what platform calendars accept: runs of consecutive
 * nights with one value, cut to request-size limits. Platforms take ranges, so a year of
 * unchanged nights is one operation rather than 365.
 */

/** An inclusive range of consecutive nights that share one value. */
export interface Run<V> {
  start: IsoDate;
  end: IsoDate;
  nights: number;
  value: V;
}

export interface DatedValue<V> {
  date: IsoDate;
  value: V;
}

/**
 * Maximal runs of consecutive dates whose values have the same `key`. Input must be sorted by
 * date without repeats; a gap in dates always ends a run.
 */
export function runsOf<V>(items: readonly DatedValue<V>[], key: (v: V) => string): Run<V>[] {
  const out: Run<V>[] = [];
  let last: { run: Run<V>; key: string } | undefined;
  for (const { date, value } of items) {
    const k = key(value);
    if (last && last.key === k && daysBetween(last.run.end, date) === 1) {
      last.run.end = date;
      last.run.nights += 1;
    } else {
      last = { run: { start: date, end: date, nights: 1, value }, key: k };
      out.push(last.run);
    }
  }
  return out;
}

/** Cut a run into pieces of at most `maxNights` nights. */
export function splitRun<V>(run: Run<V>, maxNights: number): Run<V>[] {
  if (maxNights < 1) throw new RangeError("maxNights must be at least 1");
  const out: Run<V>[] = [];
  for (let offset = 0; offset < run.nights; offset += maxNights) {
    const nights = Math.min(maxNights, run.nights - offset);
    const start = addDays(run.start, offset);
    out.push({ start, end: addDays(start, nights - 1), nights, value: run.value });
  }
  return out;
}

export interface CallLimits {
  /** Most operations (runs) in one call. */
  maxOps: number;
  /** Most nights, summed over the call's runs. */
  maxNights: number;
}

/**
 * Group runs, in order, into as few calls as the limits allow: a run that does not fit the rest of
 * a call fills it and goes on in the next (cutting costs one more operation, never one more call).
 */
export function packRuns<V>(runs: readonly Run<V>[], limits: CallLimits): Run<V>[][] {
  if (limits.maxNights < 1 || limits.maxOps < 1) throw new RangeError("limits must be at least 1");
  const calls: Run<V>[][] = [];
  let current: Run<V>[] = [];
  let nights = 0;
  for (const run of runs) {
    let offset = 0;
    while (offset < run.nights) {
      if (current.length === limits.maxOps || nights === limits.maxNights) {
        calls.push(current);
        current = [];
        nights = 0;
      }
      const take = Math.min(run.nights - offset, limits.maxNights - nights);
      const start = addDays(run.start, offset);
      current.push({ start, end: addDays(start, take - 1), nights: take, value: run.value });
      nights += take;
      offset += take;
    }
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/**
 * Split sorted dated items into windows that each span at most `days` calendar days from their
 * first date (Booking.com: one request covers at most about a month).
 */
export function windowsOf<T extends { date: IsoDate }>(items: readonly T[], days: number): T[][] {
  if (days < 1) throw new RangeError("days must be at least 1");
  const out: T[][] = [];
  let current: T[] = [];
  let windowEnd: IsoDate | undefined;
  for (const item of items) {
    if (windowEnd === undefined || item.date > windowEnd) {
      if (current.length > 0) out.push(current);
      current = [];
      windowEnd = addDays(item.date, days - 1);
    }
    current.push(item);
  }
  if (current.length > 0) out.push(current);
  return out;
}
