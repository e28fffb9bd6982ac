import { daysBetween, isIsoDate, isTooFarInPast } from "../kit/dates";
import type { DayPatch } from "../kit/store/types";

/** Per-call limits of the calendar and pricing endpoints. */
export const MAX_OPERATIONS = 50;
export const MAX_NIGHTS = 366;

export type OperationKind = "availability" | "pricing";

export interface CalendarOperation {
  start: string;
  /** Inclusive. */
  end: string;
  patch: DayPatch;
}

export type ParsedOperations =
  { ok: true; operations: CalendarOperation[] } | { ok: false; message: string };

const PRICE = /^\d{1,7}(\.\d{1,2})?$/;

function fail(message: string): ParsedOperations {
  return { ok: false, message };
}

function readPatch(
  op: Record<string, unknown>,
  kind: OperationKind,
  at: string,
): DayPatch | string {
  if (kind === "availability") {
    const a = op.availability;
    if (a !== "available" && a !== "unavailable") {
      return `${at}.availability must be "available" or "unavailable"`;
    }
    return { closed: a === "unavailable" };
  }
  const price = op.nightly_price;
  if (typeof price !== "string" || !PRICE.test(price) || Number(price) <= 0) {
    return `${at}.nightly_price must be a positive decimal string such as "120.00"`;
  }
  const currency = op.currency;
  if (typeof currency !== "string" || !/^[A-Z]{3}$/.test(currency)) {
    return `${at}.currency must be an ISO 4217 code such as "EUR"`;
  }
  return { price: Number(price).toFixed(2), currency };
}

/** Validate a PUT calendar/pricing body; the message names the first problem found. */
export function parseOperations(
  body: unknown,
  kind: OperationKind,
  nowMs: number,
): ParsedOperations {
  const ops =
    body && typeof body === "object" ? (body as Record<string, unknown>).operations : undefined;
  if (!Array.isArray(ops)) return fail("operations must be an array");
  if (ops.length === 0) return fail("operations must not be empty");
  if (ops.length > MAX_OPERATIONS) {
    return fail(`at most ${MAX_OPERATIONS} operations per request (got ${ops.length})`);
  }
  const operations: CalendarOperation[] = [];
  let nights = 0;
  for (const [i, raw] of ops.entries()) {
    const at = `operations[${i}]`;
    if (!raw || typeof raw !== "object") return fail(`${at} must be an object`);
    const op = raw as Record<string, unknown>;
    for (const field of ["start_date", "end_date"] as const) {
      if (!isIsoDate(op[field])) return fail(`${at}.${field} must be a valid YYYY-MM-DD date`);
    }
    const start = op.start_date as string;
    const end = op.end_date as string;
    if (end < start) return fail(`${at}.end_date ${end} is before start_date ${start}`);
    if (isTooFarInPast(start, nowMs)) {
      return fail(`${at}.start_date ${start} is more than 1 day in the past`);
    }
    const patch = readPatch(op, kind, at);
    if (typeof patch === "string") return fail(patch);
    nights += daysBetween(start, end) + 1;
    operations.push({ start, end, patch });
  }
  if (nights > MAX_NIGHTS) {
    return fail(`at most ${MAX_NIGHTS} nights per request in total (got ${nights})`);
  }
  return { ok: true, operations };
}
