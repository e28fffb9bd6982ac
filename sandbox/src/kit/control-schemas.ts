import { z } from "zod";
import { isIsoDate } from "./dates";

/** Control-body pieces every simulator's control routes share. */

export const isoDate = z.string().refine(isIsoDate, "must be a valid YYYY-MM-DD date");
/** Money as a decimal string ("450.00"); numbers are accepted and normalised. */
export const money = z
  .union([z.string().regex(/^\d{1,7}(\.\d{1,2})?$/), z.number().nonnegative()])
  .transform((v) => Number(v).toFixed(2));
export const currency = z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as EUR");
const guests = z.number().int().min(1).max(99);
/** Ids travel in URLs and in OTA attributes limited to 32 characters. */
export const id = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "must be 1-32 letters, digits, _ or -");

/** Account names (hosts, owners) travel in URLs too. */
export const accountName = id;

/** The fields of a guest's stay, whatever the platform. */
export const stay = {
  start_date: isoDate,
  end_date: isoDate,
  guest_name: z.string().max(128).optional(),
  guests: guests.optional(),
  total: money.optional(),
  currency: currency.optional(),
};

export const checkOutAfterCheckIn = (v: { start_date: string; end_date: string }) =>
  v.end_date > v.start_date;
export const stayMessage = {
  message: "end_date (check-out) must be after start_date",
  path: ["end_date"],
};

export const modifyBody = z.strictObject({
  start_date: isoDate.optional(),
  end_date: isoDate.optional(),
  guests: guests.optional(),
  total: money.optional(),
});

export const faultsBody = z.strictObject({
  latency_ms: z.number().int().min(0).max(60_000).optional(),
  fail_next: z.number().int().min(0).optional(),
  fail_status: z.number().int().min(400).max(599).optional(),
  rate_limit_next: z.number().int().min(0).optional(),
  retry_after: z.number().int().min(0).max(86_400).optional(),
  timeout_next: z.number().int().min(0).optional(),
  timeout_ms: z.number().int().min(0).max(60_000).optional(),
  fail_rate: z.number().min(0).max(1).optional(),
  fault_path: z.string().max(200).optional(),
  duplicate_webhooks: z.boolean().optional(),
  reorder_webhooks: z.boolean().optional(),
  enforce_rate_limit: z.boolean().optional(),
});

/** "Anna Maria Schmidt" -> given "Anna Maria", surname "Schmidt" (OTA requires a Surname). */
export function splitName(name: string | undefined): { given: string | null; surname: string } {
  const words = (name ?? "").trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { given: "Test", surname: "Guest" };
  const surname = words.pop()!;
  return { given: words.length ? words.join(" ") : null, surname };
}
