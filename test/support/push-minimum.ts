import { toDayNumber } from "../../src/domain/dates";
import type { NightState } from "../../src/platforms/types";

/**
 * Independent reference answers for push plans (node tests): how few calls a platform's request
 * size allows, computed without the adapters' own code.
 */

/** Lengths of maximal runs of consecutive nights with one key. */
export function runLengths(
  nights: readonly NightState[],
  key: (n: NightState) => string,
): number[] {
  const out: number[] = [];
  let prev: { day: number; key: string } | undefined;
  for (const n of nights) {
    const day = toDayNumber(n.date);
    const k = key(n);
    if (prev && day === prev.day + 1 && k === prev.key) out[out.length - 1]! += 1;
    else out.push(1);
    prev = { day, key: k };
  }
  return out;
}

/**
 * The fewest calls of at most `maxOps` operations and `maxNights` nights covering these runs in
 * order, where a run may be cut anywhere (each piece is one operation): fill every call as far
 * as it goes. A call that took less could only leave more for the rest.
 */
export function minCalls(runs: readonly number[], maxOps: number, maxNights: number): number {
  let calls = 0;
  let ops = maxOps;
  let nights = maxNights;
  for (const run of runs) {
    let left = run;
    while (left > 0) {
      if (ops === maxOps || nights === maxNights) {
        calls += 1;
        ops = 0;
        nights = 0;
      }
      const take = Math.min(left, maxNights - nights);
      ops += 1;
      nights += take;
      left -= take;
    }
  }
  return calls;
}
