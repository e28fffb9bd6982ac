/**
 * Local calendar dates as "YYYY-MM-DD" strings. Pure helpers: stays are half-open
 * [checkIn, checkOut) — the check-out morning is not a night.
 */
export type IsoDate = string;

/** An inclusive range of nights, start <= end. */
export interface DateRange {
  start: IsoDate;
  end: IsoDate;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

export function toDayNumber(date: IsoDate): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

export function fromDayNumber(day: number): IsoDate {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(date: IsoDate, days: number): IsoDate {
  return fromDayNumber(toDayNumber(date) + days);
}

export function daysBetween(from: IsoDate, to: IsoDate): number {
  return toDayNumber(to) - toDayNumber(from);
}

/** The nights of a stay: every date from check-in up to, not including, check-out. */
export function nightsOf(checkIn: IsoDate, checkOut: IsoDate): IsoDate[] {
  const start = toDayNumber(checkIn);
  const end = toDayNumber(checkOut);
  const nights: IsoDate[] = [];
  for (let d = start; d < end; d++) nights.push(fromDayNumber(d));
  return nights;
}

/** The stay [checkIn, checkOut) as an inclusive range of nights, or null for an empty stay. */
export function stayRange(checkIn: IsoDate, checkOut: IsoDate): DateRange | null {
  if (checkOut <= checkIn) return null;
  return { start: checkIn, end: addDays(checkOut, -1) };
}

/** Today's date in an IANA time zone. */
export function localToday(timeZone: string, nowMs: number): IsoDate {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(new Date(nowMs));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}
