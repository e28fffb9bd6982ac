import { z } from "@hono/zod-openapi";
import { ApiError } from "../http/errors";
import { ErrorSchema, ok } from "../http/openapi";
import { errorMessage, log } from "../lib/log";
import { aliasNote, PLATFORM_IDS, PLATFORM_INPUTS, platformOf } from "../platforms/ids";
import { ownDeadLetter, type DeadLetterRow } from "../store/dead-letters";
import { ownEvent, type EventRow } from "../store/events";
import type { Platform } from "../store/schema/channels.schema";

/**
 * What the operator controls share (issue 4 §4): the events, dead-letter and sync-log routers take
 * the same filters and reasons, show the same attempt log, and answer the same 404s and 503. Kept
 * here, not in one router's folder, because no api/<resource>/ imports another.
 */

/** A platform's id or alias (ids.ts), filtered as the platform's id. */
export const PlatformFilter = z
  .enum(PLATFORM_INPUTS)
  .openapi({ example: PLATFORM_IDS[0], description: aliasNote("is an alias of") });
export const canonicalPlatform: (p: z.infer<typeof PlatformFilter>) => Platform = platformOf;

const epochMs = (description: string) =>
  z.coerce.number().int().min(0).optional().openapi({ description, example: 1767225600000 });
/** ?from=&to=: epoch milliseconds, from inclusive, to exclusive. */
export const timeRangeQuery = (column: string) => ({
  from: epochMs(`Only rows with ${column} >= from (epoch ms)`),
  to: epochMs(`Only rows with ${column} < to (epoch ms)`),
});

export const Order = z
  .enum(["asc", "desc"])
  .default("desc")
  .openapi({ description: "desc: newest first (default)" });

export const ReasonBody = z
  .object({
    reason: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .openapi({ example: "guest cancelled by phone; the platform already refunded" }),
  })
  .openapi("IgnoreReason");

export const QUEUE_UNAVAILABLE = ok(
  "The queue did not take the message; nothing changed",
  ErrorSchema,
);

export function queueUnavailable(err: unknown, what: string): ApiError {
  log("error", "operator.enqueue_failed", { what, error: errorMessage(err) });
  return new ApiError(
    503,
    "queue_unavailable",
    `could not enqueue ${what}; nothing changed, try again`,
    undefined,
    { "Retry-After": "5" },
  );
}

interface AttemptEntry {
  attempt: number | null;
  at: number | null;
  error: string | null;
  note?: string;
}

const AttemptSchema = z
  .object({
    attempt: z.number().int().nullable(),
    at: z.number().int().nullable().openapi({ description: "epoch ms" }),
    error: z.string().nullable(),
    note: z.string().optional().openapi({
      description:
        "What a successful attempt did when an earlier one had already applied the event's changes",
    }),
  })
  .openapi("FailedAttempt");
export const AttemptLog = z.array(AttemptSchema);

/** attempt_log as stored (a JSON array of {attempt, at, error}); anything malformed is skipped. */
export function parseAttemptLog(text: string | null): AttemptEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text ?? "[]");
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  return value.flatMap((v: unknown) => {
    if (typeof v !== "object" || v === null) return [];
    const o = v as Record<string, unknown>;
    const num = (x: unknown) =>
      typeof x === "number" && Number.isFinite(x) ? Math.trunc(x) : null;
    return [
      {
        attempt: num(o.attempt),
        at: num(o.at),
        error: typeof o.error === "string" ? o.error : o.error == null ? null : String(o.error),
        ...(typeof o.note === "string" ? { note: o.note } : {}),
      },
    ];
  });
}

/** The tenant's event, or a 404. */
export async function eventOr404(db: D1Database, tenantId: string, id: string): Promise<EventRow> {
  const row = await ownEvent(db, tenantId, id);
  if (!row) throw new ApiError(404, "not_found", `event ${id} not found`);
  return row;
}

/** The tenant's dead letter, or a 404. */
export async function deadLetterOr404(
  db: D1Database,
  tenantId: string,
  id: string,
): Promise<DeadLetterRow> {
  const row = await ownDeadLetter(db, tenantId, id);
  if (!row) throw new ApiError(404, "not_found", `dead letter ${id} not found`);
  return row;
}

/** 409 for a dead letter an operator already resolved. */
export const alreadyResolved = (r: Pick<DeadLetterRow, "id" | "resolution" | "resolvedAt">) =>
  new ApiError(409, "invalid_state", `dead letter ${r.id} is already resolved (${r.resolution})`, [
    { path: "resolved_at", message: `resolved at ${r.resolvedAt}` },
  ]);
