/** Calendar dates as "YYYY-MM-DD" strings in UTC, the way the platforms exchange them. */

const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDate(value: unknown): value is string {
  if (typeof value !== "string" || !ISO_DATE.test(value)) return false;
  // Round-trip so that 2025-02-30 and friends are refused.
  return new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) === value;
}

function toMs(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

export function addDays(date: string, days: number): string {
  return new Date(toMs(date) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((toMs(to) - toMs(from)) / DAY_MS);
}

export function todayUtc(nowMs: number = Date.now()): string {
  return new Date(nowMs).toISOString().slice(0, 10);
}

/** The platforms refuse dates more than one day in the past (time zones make "yesterday" legal). */
export function isTooFarInPast(date: string, nowMs: number = Date.now()): boolean {
  return daysBetween(todayUtc(nowMs), date) < -1;
}

/** Every date from start to end, both inclusive. */
export function eachDate(start: string, endInclusive: string): string[] {
  const out: string[] = [];
  for (let d = start; d <= endInclusive; d = addDays(d, 1)) out.push(d);
  return out;
}

/** The nights of a stay [checkIn, checkOut): the check-out morning is not a night. */
export function stayNights(checkIn: string, checkOut: string): string[] {
  return checkOut > checkIn ? eachDate(checkIn, addDays(checkOut, -1)) : [];
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Read-back windows: at most two years per request. */
export const MAX_READ_DAYS = 731;

/** Validate an inclusive read range from query parameters; a message names the problem. */
export function parseRange(
  start: string | undefined,
  end: string | undefined,
  names: [string, string],
): { ok: true; start: string; end: string } | { ok: false; message: string } {
  if (!isIsoDate(start))
    return { ok: false, message: `${names[0]} must be a valid YYYY-MM-DD date` };
  if (!isIsoDate(end)) return { ok: false, message: `${names[1]} must be a valid YYYY-MM-DD date` };
  if (end < start) return { ok: false, message: `${names[1]} is before ${names[0]}` };
  if (daysBetween(start, end) + 1 > MAX_READ_DAYS) {
    return { ok: false, message: `at most ${MAX_READ_DAYS} days per request` };
  }
  return { ok: true, start, end };
}
