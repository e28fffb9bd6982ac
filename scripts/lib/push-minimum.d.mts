/** Types of push-minimum.mjs (the shared reference model of the fewest push calls). */

/** Whole days since the epoch of a YYYY-MM-DD date (UTC). */
export declare function dayNumber(date: string): number;

/** Lengths of maximal runs of consecutive nights with one key; `nights` sorted by date. */
export declare function runLengths<T extends { readonly date: string }>(
  nights: readonly T[],
  key: (night: T) => string | number | boolean,
): number[];

/** The fewest calls of at most `maxOps` operations and `maxNights` nights covering the runs. */
export declare function minCalls(
  runs: readonly number[],
  maxOps: number,
  maxNights: number,
): number;

/** The fewest windows of `spanDays` calendar days covering these dates (any order). */
export declare function minWindows(dates: readonly string[], spanDays: number): number;
