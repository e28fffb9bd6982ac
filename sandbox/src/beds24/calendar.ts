import { z } from "zod";
import { isIsoDate, isTooFarInPast } from "../kit/dates";

/**
 * `POST /inventory/rooms/calendar` bodies and `GET` answers (PROTOCOLS.md, Beds24): rooms carry
 * ranges `{from, to (inclusive), numAvail, price1…price16, minStay, maxStay}`. Pure.
 */

const isoDate = z.string().refine(isIsoDate, "must be a valid YYYY-MM-DD date");
const price = z
  .number()
  .nonnegative()
  .max(9_999_999)
  .refine((v) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6, "at most 2 decimals");
/** price2…price16: accepted, not simulated (the sandbox keeps price1). */
const otherPriceSlots = Object.fromEntries(
  Array.from({ length: 15 }, (_, i) => [`price${i + 2}`, price.optional()]),
) as Record<string, z.ZodOptional<typeof price>>;

/** Sandbox sanity limits; real requests far below them (the engine sends ≤ 366 nights a call). */
export const MAX_ROOMS_PER_CALL = 100;
export const MAX_ENTRIES_PER_ROOM = 1000;

const entry = z
  .strictObject({
    from: isoDate,
    to: isoDate,
    numAvail: z.number().int().min(0).max(999).optional(),
    minStay: z.number().int().min(0).max(999).optional(),
    maxStay: z.number().int().min(0).max(999).optional(),
    price1: price.optional(),
    ...otherPriceSlots,
  })
  .refine((e) => e.to >= e.from, { message: "to is before from", path: ["to"] })
  .refine((e) => !isTooFarInPast(e.from), {
    message: "dates older than yesterday cannot be changed",
    path: ["from"],
  })
  .refine((e) => Object.keys(e).some((k) => k !== "from" && k !== "to"), {
    message: "an entry needs at least one value (numAvail, price1…price16, minStay, maxStay)",
  });

export const calendarPostBody = z
  .array(
    z.strictObject({
      roomId: z.number().int().positive().max(9_999_999_999),
      calendar: z.array(entry).min(1).max(MAX_ENTRIES_PER_ROOM),
    }),
  )
  .min(1)
  .max(MAX_ROOMS_PER_CALL);

export type CalendarPostBody = z.infer<typeof calendarPostBody>;
export type CalendarEntry = CalendarPostBody[number]["calendar"][number];

/** Every room item's cost share: 0.1 credit (see the cost rule in state/beds24-store.ts). */
export function calendarPostCostTenths(body: unknown): number {
  return 10 + (Array.isArray(body) ? body.length : 0);
}

export interface DayValue {
  date: string;
  numAvail?: number;
  price1?: number;
}

export interface RangeEntry {
  from: string;
  to: string;
  numAvail?: number;
  price1?: number;
}

/** Consecutive days with equal values become one `{from, to}` entry (the answer's compression). */
export function compressDays(days: readonly DayValue[]): RangeEntry[] {
  const out: RangeEntry[] = [];
  let key = "";
  for (const d of days) {
    const { date, ...values } = d;
    const k = JSON.stringify(values);
    const last = out.at(-1);
    if (last && k === key) last.to = date;
    else {
      out.push({ from: date, to: date, ...values });
      key = k;
    }
  }
  return out;
}
