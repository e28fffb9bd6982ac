// The reference model of the fewest push calls a platform's request size allows, shared by the
// bench (scripts/bench/) and the node tests (test/support/push-minimum.ts). It is computed from
// the request-size rules the platforms publish, never with the adapters' own code: it is what the
// adapters are checked against. Plain JavaScript, so node scripts and vitest import it alike.

const DAY_MS = 86_400_000;

/** Whole days since the epoch of a YYYY-MM-DD date (UTC). */
export function dayNumber(date) {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

/**
 * Lengths of maximal runs of consecutive nights with one key (compared with ===); `nights` sorted
 * by date, no date twice.
 */
export function runLengths(nights, key) {
  const out = [];
  let prev;
  for (const n of nights) {
    const day = dayNumber(n.date);
    const k = key(n);
    if (prev && day === prev.day + 1 && k === prev.key) out[out.length - 1] += 1;
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
export function minCalls(runs, maxOps, maxNights) {
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

/**
 * The fewest windows of `spanDays` calendar days covering these dates (any order): each window
 * from the first uncovered date on. Greedy is optimal, as a window starting earlier covers less.
 */
export function minWindows(dates, spanDays) {
  let count = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const day of dates.map(dayNumber).sort((a, b) => a - b)) {
    if (day > end) {
      count += 1;
      end = day + spanDays - 1;
    }
  }
  return count;
}
