import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, requireTenantAuth } from "../http/auth";
import { PLATFORMS, type Platform } from "../store/schema/channels.schema";
import { EVENT_STATUSES, type EventStatus } from "../store/schema/events.schema";
import { aliasNote, PLATFORM_IDS, PLATFORM_INPUTS, platformOf } from "../platforms/ids";
import { ApiError } from "../http/errors";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  ErrorSchema,
  IdParam,
  IdRef,
  jsonBody,
  ok,
  WRITE_ERRORS,
} from "../http/openapi";
import { afterCursor, page, pageSchema, PageQuery } from "../http/pagination";
import { errorMessage, log } from "../lib/log";
import type { InboundMessage } from "../queue/messages";
import {
  inboundMessageForEvent,
  inboundMessagesForEvents,
  PULL_EVENT_TYPE,
  sendInbound,
} from "../queue/republish";

/**
 * Operator controls over channel events (issue 4 §4): list and inspect them, retry a failed one,
 * replay any historical one, ignore one with a reason, and retry a filtered batch. Every query is
 * scoped by the token's tenant; events never resolved to a tenant (tenant_id NULL) are invisible.
 *
 * Retry and replay both put the event back to `received` (attempts 0, attempt_log kept) and send
 * its inbound message again, rebuilt from webhook_log (a webhook) or from the event (a pull). The
 * consumer claims the same row by its idempotency key and re-fetches the booking from the platform;
 * imports are revision-ordered, so replaying an applied event changes nothing and it stays `done`
 * with what it applied (its booking_changes), a note in its attempt log saying so.
 */

// ---------------------------------------------------------------------------------------------
// Shared by the dead-letter and sync-log routes.

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

/** Builds `WHERE a = ? AND b = ?` from optional filters; values are always bound. */
export class Where {
  readonly clauses: string[] = [];
  readonly binds: Array<string | number> = [];
  add(clause: string, ...values: Array<string | number>): this {
    this.clauses.push(clause);
    this.binds.push(...values);
    return this;
  }
  sql(): string {
    return this.clauses.join(" AND ");
  }
}

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

// ---------------------------------------------------------------------------------------------
// Events.

const DIRECTIONS = ["inbound", "outbound"] as const;
/** An event in one of these may be retried (sent again through the inbound queue). */
export const RETRYABLE: readonly EventStatus[] = ["failed", "retrying", "unmapped"];
/** An event in one of these may be ignored: not while a consumer works on it, not once applied. */
const IGNORABLE: readonly EventStatus[] = ["received", "retrying", "failed", "unmapped"];

const EventSchema = z
  .object({
    id: z.string().openapi({ example: "evt_9f2c…" }),
    platform: z.enum(PLATFORMS),
    direction: z.enum(DIRECTIONS),
    event_type: z.string().openapi({ example: "reservation.created" }),
    status: z.enum(EVENT_STATUSES),
    connection_id: z.string().nullable(),
    property_id: z.string().nullable(),
    entity_external_id: z
      .string()
      .nullable()
      .openapi({ description: "The platform's id the event names (event id, listing, hotel)" }),
    idempotency_key: z.string().openapi({ example: "airbnb:evt_123" }),
    attempts: z.number().int().openapi({ description: "Deliveries since the last reset" }),
    duplicates: z.number().int(),
    last_error: z.string().nullable(),
    outcome: z
      .string()
      .nullable()
      .openapi({ description: "What processing did, or why the event was ignored" }),
    received_at: z.number().int(),
    processed_at: z.number().int().nullable(),
    updated_at: z.number().int(),
  })
  .openapi("ChannelEvent");
type ApiEvent = z.infer<typeof EventSchema>;

const EventDetailSchema = EventSchema.extend({
  attempt_log: AttemptLog.openapi({ description: "Every failed attempt, kept across retries" }),
  payload: z.string().nullable().openapi({
    description:
      "The webhook body exactly as received (never its signature); null for pulls or once retention removed it",
  }),
  dead_letters: z.array(
    z.object({
      id: z.string(),
      created_at: z.number().int(),
      resolved_at: z.number().int().nullable(),
      resolution: z.enum(["retried", "replayed", "ignored"]).nullable(),
    }),
  ),
  changes: z
    .array(
      z.object({
        booking_id: z.string(),
        channel_booking_id: z.string(),
        outcome: z.string().openapi({ example: "created" }),
        status: z.string().openapi({ description: "The booking's status as this change left it" }),
        check_in: z.string(),
        check_out: z.string(),
        channel_revision: z.number().int(),
        at: z.number().int(),
      }),
    )
    .openapi({
      description:
        "Every booking change this event applied, in whichever attempt (GET /api/v1/events?booking_id= goes the other way)",
    }),
}).openapi("ChannelEventDetail");
type ApiEventDetail = z.infer<typeof EventDetailSchema>;

export interface EventRow extends Omit<ApiEvent, "direction"> {
  tenant_id: string;
  direction: (typeof DIRECTIONS)[number];
  lease_until: number | null;
  attempt_log: string;
}

const EVENT_COLUMNS = `id, tenant_id, platform, direction, event_type, status, connection_id, property_id,
  entity_external_id, idempotency_key, attempts, duplicates, lease_until, last_error, attempt_log, outcome,
  received_at, processed_at, updated_at`;

function toApi(r: EventRow): ApiEvent {
  return {
    id: r.id,
    platform: r.platform,
    direction: r.direction,
    event_type: r.event_type,
    status: r.status,
    connection_id: r.connection_id,
    property_id: r.property_id,
    entity_external_id: r.entity_external_id,
    idempotency_key: r.idempotency_key,
    attempts: r.attempts,
    duplicates: r.duplicates,
    last_error: r.last_error,
    outcome: r.outcome,
    received_at: r.received_at,
    processed_at: r.processed_at,
    updated_at: r.updated_at,
  };
}

/** The event with its attempt log, raw payload (no signature) and dead letters. */
export async function eventDetail(db: D1Database, r: EventRow): Promise<ApiEventDetail> {
  const [payload, dead, changes] = await db.batch([
    db
      .prepare(`SELECT payload FROM webhook_log WHERE id = ? AND platform = ?`)
      .bind(r.event_type === PULL_EVENT_TYPE ? "" : r.idempotency_key, r.platform),
    // The key is this event's own (unique across tenants); a dead letter stored before the event
    // resolved to a tenant has none yet.
    db
      .prepare(
        `SELECT id, created_at, resolved_at, resolution FROM dead_letters
         WHERE queue = 'inbound' AND idempotency_key = ? AND (tenant_id = ? OR tenant_id IS NULL)
         ORDER BY created_at DESC LIMIT 20`,
      )
      .bind(r.idempotency_key, r.tenant_id),
    db
      .prepare(
        `SELECT ch.booking_id, b.channel_booking_id, ch.outcome, ch.status, ch.check_in, ch.check_out,
           ch.channel_revision, ch.created_at AS at
         FROM booking_changes ch JOIN bookings b ON b.id = ch.booking_id AND b.tenant_id = ch.tenant_id
         WHERE ch.event_key = ? AND ch.tenant_id = ? ORDER BY ch.created_at, ch.id LIMIT 100`,
      )
      .bind(r.idempotency_key, r.tenant_id),
  ]);
  return {
    ...toApi(r),
    attempt_log: parseAttemptLog(r.attempt_log),
    payload: (payload?.results[0] as { payload: string } | undefined)?.payload ?? null,
    dead_letters: (dead?.results ?? []) as ApiEventDetail["dead_letters"],
    changes: (changes?.results ?? []) as ApiEventDetail["changes"],
  };
}

const eventNotFound = (id: string) => new ApiError(404, "not_found", `event ${id} not found`);

export async function ownEvent(db: D1Database, tenantId: string, id: string): Promise<EventRow> {
  const row = await db
    .prepare(`SELECT ${EVENT_COLUMNS} FROM channel_events WHERE id = ? AND tenant_id = ?`)
    .bind(id, tenantId)
    .first<EventRow>();
  if (!row) throw eventNotFound(id);
  return row;
}

function invalidState(id: string, status: EventStatus, action: string, allowed: string, hint = "") {
  return new ApiError(
    409,
    "invalid_state",
    `event ${id} is ${status}: only ${allowed} events can be ${action}${hint}`,
    [{ path: "status", message: `is ${status}` }],
  );
}

/** A consumer holds the event right now (its lease has not run out). */
const isBeingProcessed = (r: Pick<EventRow, "status" | "lease_until">, now: number) =>
  r.status === "processing" && (r.lease_until ?? 0) >= now;

/** Mark the event's unresolved dead letters resolved (a statement, to batch with other writes). */
export function resolveDeadLettersOf(
  db: D1Database,
  tenantId: string,
  idempotencyKeys: readonly string[],
  resolution: "retried" | "replayed" | "ignored",
  note: string | null,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE dead_letters SET resolved_at = ?, resolution = ?, resolution_note = ?
       WHERE queue = 'inbound' AND resolved_at IS NULL AND (tenant_id = ? OR tenant_id IS NULL)
         AND idempotency_key IN (SELECT value FROM json_each(?))`,
    )
    .bind(now, resolution, note, tenantId, JSON.stringify(idempotencyKeys));
}

/**
 * Retry (failed/retrying/unmapped only) or replay (any state but a live `processing`) one of the
 * tenant's inbound events: reset it to `received` with attempts 0 (a compare-and-swap on its
 * state), send its message, and resolve its dead letters. If the queue refuses the message the
 * event is put back as it was. `message` overrides the rebuilt one (a dead letter's own body).
 */
export async function republishEvent(
  env: Env,
  tenantId: string,
  id: string,
  mode: "retry" | "replay",
  opts: { message?: InboundMessage; note?: string } = {},
): Promise<EventRow> {
  const db = env.DB;
  const before = await ownEvent(db, tenantId, id);
  const now = Date.now();
  if (mode === "retry" && !RETRYABLE.includes(before.status)) {
    throw invalidState(
      id,
      before.status,
      "retried",
      "failed, retrying or unmapped",
      before.status === "done" || before.status === "ignored"
        ? `; replay it (POST /api/v1/events/${id}/replay) to run it again`
        : "",
    );
  }
  if (mode === "replay" && isBeingProcessed(before, now)) {
    throw new ApiError(
      409,
      "invalid_state",
      `event ${id} is processing: a consumer holds it until ${new Date(before.lease_until ?? now).toISOString()}; try again after it finishes`,
      [{ path: "status", message: "is processing" }],
    );
  }
  if (before.direction !== "inbound") {
    throw new ApiError(
      409,
      "not_replayable",
      `event ${id} is outbound: only inbound events are sent again`,
    );
  }
  const message = opts.message ?? (await inboundMessageForEvent(db, before));
  if (!message) {
    throw new ApiError(
      409,
      "not_replayable",
      `event ${id} cannot be rebuilt: its webhook body is no longer kept (retention)`,
    );
  }

  // Compare-and-swap: only from the state that allowed this (a consumer may have moved it).
  const from =
    mode === "retry"
      ? `status IN (${RETRYABLE.map((s) => `'${s}'`).join(", ")})`
      : `(status != 'processing' OR COALESCE(lease_until, 0) < ?)`;
  const updated = await db
    .prepare(
      `UPDATE channel_events SET status = 'received', attempts = 0, lease_until = NULL, updated_at = ?
       WHERE id = ? AND tenant_id = ? AND ${from} RETURNING ${EVENT_COLUMNS}`,
    )
    .bind(now, id, tenantId, ...(mode === "replay" ? [now] : []))
    .first<EventRow>();
  if (!updated) {
    const current = await ownEvent(db, tenantId, id);
    throw new ApiError(
      409,
      "invalid_state",
      `event ${id} changed to ${current.status} meanwhile; look at it again before retrying`,
      [{ path: "status", message: `is ${current.status}` }],
    );
  }
  try {
    await sendInbound(env.INBOUND_QUEUE, [message]);
  } catch (err) {
    await db
      .prepare(
        `UPDATE channel_events SET status = ?, attempts = ?, lease_until = ?, updated_at = ?
         WHERE id = ? AND status = 'received' AND updated_at = ?`,
      )
      .bind(before.status, before.attempts, before.lease_until, before.updated_at, id, now)
      .run();
    throw queueUnavailable(err, `event ${id}`);
  }
  await resolveDeadLettersOf(
    db,
    tenantId,
    [before.idempotency_key],
    mode === "retry" ? "retried" : "replayed",
    opts.note ?? `event ${mode === "retry" ? "retried" : "replayed"} by an operator`,
    now,
  ).run();
  log("info", `operator.event_${mode}`, { tenantId, eventId: id, from: before.status });
  return updated;
}

/** Ignore the event: it stays kept, a consumer will treat any redelivery as a duplicate. */
async function ignoreEvent(
  db: D1Database,
  tenantId: string,
  id: string,
  reason: string,
): Promise<EventRow> {
  const now = Date.now();
  const updated = await db
    .prepare(
      `UPDATE channel_events SET status = 'ignored', outcome = ?, lease_until = NULL,
         processed_at = COALESCE(processed_at, ?), updated_at = ?
       WHERE id = ? AND tenant_id = ? AND status IN (${IGNORABLE.map(() => "?").join(", ")})
       RETURNING ${EVENT_COLUMNS}`,
    )
    .bind(`ignored by operator: ${reason}`, now, now, id, tenantId, ...IGNORABLE)
    .first<EventRow>();
  if (!updated) {
    const current = await ownEvent(db, tenantId, id);
    throw invalidState(id, current.status, "ignored", "received, retrying, failed or unmapped");
  }
  await resolveDeadLettersOf(db, tenantId, [updated.idempotency_key], "ignored", reason, now).run();
  log("info", "operator.event_ignored", { tenantId, eventId: id });
  return updated;
}

// ---------------------------------------------------------------------------------------------
// Filters shared by the list and the batch retry.

interface EventFilters {
  status?: EventStatus;
  booking_id?: string;
  property_id?: string;
  connection_id?: string;
  platform?: z.infer<typeof PlatformFilter>;
  event_type?: string;
  direction?: (typeof DIRECTIONS)[number];
  from?: number;
  to?: number;
}

function filterEvents(tenantId: string, f: EventFilters): Where {
  const w = new Where().add("tenant_id = ?", tenantId);
  if (f.status) w.add("status = ?", f.status);
  if (f.booking_id) {
    w.add(
      "idempotency_key IN (SELECT event_key FROM booking_changes WHERE booking_id = ? AND tenant_id = ?)",
      f.booking_id,
      tenantId,
    );
  }
  if (f.property_id) w.add("property_id = ?", f.property_id);
  if (f.connection_id) w.add("connection_id = ?", f.connection_id);
  if (f.platform) w.add("platform = ?", canonicalPlatform(f.platform));
  if (f.event_type) w.add("event_type = ?", f.event_type);
  if (f.direction) w.add("direction = ?", f.direction);
  if (f.from !== undefined) w.add("received_at >= ?", f.from);
  if (f.to !== undefined) w.add("received_at < ?", f.to);
  return w;
}

const EventType = z.string().trim().min(1).max(100).openapi({ example: "reservation.created" });

const ListQuery = PageQuery.extend({
  status: z.enum(EVENT_STATUSES).optional(),
  booking_id: IdRef("bk_7c2e…")
    .optional()
    .openapi({ description: "Only the events that changed this booking (created, moved, …)" }),
  property_id: IdRef("prop_3b1f…").optional(),
  connection_id: IdRef("con_4e1d…").optional(),
  platform: PlatformFilter.optional(),
  event_type: EventType.optional(),
  direction: z.enum(DIRECTIONS).optional(),
  ...timeRangeQuery("received_at"),
  sort: z.enum(["received_at", "updated_at"]).default("received_at"),
  order: Order,
});

const MAX_BATCH = 500;
const BatchRetryBody = z
  .object({
    status: z
      .enum(["failed", "retrying", "unmapped"])
      .default("failed")
      .openapi({ description: "Which retryable events to take (default failed)" }),
    property_id: IdRef("prop_3b1f…").optional(),
    connection_id: IdRef("con_4e1d…").optional(),
    platform: PlatformFilter.optional(),
    event_type: EventType.optional(),
    direction: z.enum(DIRECTIONS).optional(),
    from: z
      .number()
      .int()
      .min(0)
      .optional()
      .openapi({ description: "received_at >= from (epoch ms)" }),
    to: z.number().int().min(0).optional().openapi({ description: "received_at < to (epoch ms)" }),
    limit: z.number().int().min(1).max(MAX_BATCH).default(MAX_BATCH),
  })
  .strict()
  .openapi("BatchRetryFilter");

const BatchRetryResult = z
  .object({
    matched: z
      .number()
      .int()
      .openapi({ description: "Events matching the filters before this call" }),
    retried: z.number().int().openapi({ description: "Events reset and sent again by this call" }),
    skipped: z
      .array(z.object({ id: z.string(), reason: z.string() }))
      .openapi({ description: "Matching events this call took but could not send again" }),
    more: z.boolean().openapi({
      description:
        "More events matched than this call takes (limit, at most 500): call again for the next ones",
    }),
    data: z.array(EventSchema).openapi({ description: "The retried events, as updated" }),
  })
  .openapi("BatchRetryResult");

/** D1 allows 100 bound parameters per statement. */
const ID_CHUNK = 90;

const tags = ["Operations: events"];

/** /api/v1/events: inbound and outbound events, with retry, replay and ignore. */
export const events = createRouter();
events.use("*", requireTenantAuth);
events
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List the tenant's channel events (filter, sort, paginate)",
      description:
        "Newest received first by default; sort by received_at or updated_at, asc or desc. " +
        "from/to bound received_at (epoch ms). The cursor belongs to one sort and order.",
      security: BEARER,
      request: { query: ListQuery },
      responses: { 200: ok("A page of events", pageSchema(EventSchema)), ...AUTH_ERRORS },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const k = afterCursor(q.cursor, q.sort, "id", q.order);
      const w = filterEvents(c.var.auth.tenantId, q);
      const dir = q.order === "asc" ? "ASC" : "DESC";
      const rows = await c.env.DB.prepare(
        `SELECT ${EVENT_COLUMNS} FROM channel_events WHERE ${w.sql()} ${k.sql}
         ORDER BY ${q.sort} ${dir}, id ${dir} LIMIT ?`,
      )
        .bind(...w.binds, ...k.binds, q.limit + 1)
        .all<EventRow>();
      const sort = q.sort;
      const result = page(rows.results, q.limit, (r) => r[sort]);
      return c.json({ data: result.data.map(toApi), next_cursor: result.next_cursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/batch-retry",
      tags,
      summary: "Retry the events matching a filter, at most 500 per call (admin)",
      description:
        "Takes the oldest matching events (status failed unless given: failed, retrying or " +
        "unmapped), resets each to received with attempts 0, sends it again and resolves its " +
        "dead letters. Retried events no longer match, so calling again while `more` is true " +
        "takes the next ones.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: jsonBody(BatchRetryBody),
      responses: {
        202: ok("What was retried", BatchRetryResult),
        ...WRITE_ERRORS,
        503: QUEUE_UNAVAILABLE,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const tenantId = c.var.auth.tenantId;
      const db = c.env.DB;
      const w = filterEvents(tenantId, body);
      const [counted, picked] = await db.batch([
        db.prepare(`SELECT count(*) AS n FROM channel_events WHERE ${w.sql()}`).bind(...w.binds),
        db
          .prepare(
            `SELECT ${EVENT_COLUMNS} FROM channel_events WHERE ${w.sql()}
             ORDER BY received_at ASC, id ASC LIMIT ?`,
          )
          .bind(...w.binds, body.limit + 1),
      ]);
      const matched = (counted?.results[0] as { n: number } | undefined)?.n ?? 0;
      const candidates = ((picked?.results ?? []) as EventRow[]).slice(0, body.limit);
      const more = (picked?.results.length ?? 0) > body.limit;

      const messages = await inboundMessagesForEvents(db, candidates);
      const skipped: Array<{ id: string; reason: string }> = [];
      const sendable = candidates.filter((e) => {
        if (messages.has(e.id)) return true;
        skipped.push({
          id: e.id,
          reason:
            e.direction !== "inbound"
              ? "outbound events are not sent again"
              : "its webhook body is no longer kept (retention)",
        });
        return false;
      });

      const now = Date.now();
      const statements = [];
      for (let i = 0; i < sendable.length; i += ID_CHUNK) {
        const ids = sendable.slice(i, i + ID_CHUNK).map((e) => e.id);
        statements.push(
          db
            .prepare(
              `UPDATE channel_events SET status = 'received', attempts = 0, lease_until = NULL, updated_at = ?
               WHERE tenant_id = ? AND status IN ('failed', 'retrying', 'unmapped')
                 AND id IN (${ids.map(() => "?").join(", ")})
               RETURNING ${EVENT_COLUMNS}`,
            )
            .bind(now, tenantId, ...ids),
        );
      }
      const reset = statements.length
        ? (await db.batch<EventRow>(statements)).flatMap((r) => r.results)
        : [];
      const resetIds = new Set(reset.map((e) => e.id));
      for (const e of sendable) {
        if (!resetIds.has(e.id)) skipped.push({ id: e.id, reason: "its state changed meanwhile" });
      }
      try {
        await sendInbound(
          c.env.INBOUND_QUEUE,
          reset.flatMap((e) => {
            const m = messages.get(e.id);
            return m ? [m] : [];
          }),
        );
      } catch (err) {
        // Put back what this call reset (a message that did go out finds its event claimable).
        const byId = new Map(candidates.map((e) => [e.id, e]));
        await db.batch(
          reset.map((e) => {
            const b = byId.get(e.id);
            return db
              .prepare(
                `UPDATE channel_events SET status = ?, attempts = ?, lease_until = ?, updated_at = ?
                 WHERE id = ? AND status = 'received' AND updated_at = ?`,
              )
              .bind(
                b?.status ?? "failed",
                b?.attempts ?? 0,
                b?.lease_until ?? null,
                b?.updated_at ?? now,
                e.id,
                now,
              );
          }),
        );
        throw queueUnavailable(err, `${reset.length} events`);
      }
      const keys = reset.map((e) => e.idempotency_key);
      const resolve = [];
      for (let i = 0; i < keys.length; i += ID_CHUNK) {
        resolve.push(
          resolveDeadLettersOf(
            db,
            tenantId,
            keys.slice(i, i + ID_CHUNK),
            "retried",
            "batch retry by an operator",
            now,
          ),
        );
      }
      if (resolve.length) await db.batch(resolve);
      log("info", "operator.events_batch_retry", {
        tenantId,
        matched,
        retried: reset.length,
        skipped: skipped.length,
      });
      return c.json({ matched, retried: reset.length, skipped, more, data: reset.map(toApi) }, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get an event with its attempt log and raw payload",
      description:
        "The payload is the webhook body exactly as received; its signature is never shown.",
      security: BEARER,
      request: { params: IdParam },
      responses: { 200: ok("The event", EventDetailSchema), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await ownEvent(c.env.DB, c.var.auth.tenantId, id);
      return c.json(await eventDetail(c.env.DB, row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/retry",
      tags,
      summary: "Retry a failed, retrying or unmapped event (admin)",
      description:
        "Resets it to received with attempts 0 (the attempt log is kept), sends its message to " +
        "the inbound queue again and resolves its dead letters as retried. 409 names the state " +
        "of an event that cannot be retried.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: {
        202: ok("The event, queued again", EventDetailSchema),
        ...WRITE_ERRORS,
        503: QUEUE_UNAVAILABLE,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await republishEvent(c.env, c.var.auth.tenantId, id, "retry");
      return c.json(await eventDetail(c.env.DB, row), 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/replay",
      tags,
      summary: "Replay any historical inbound event (admin)",
      description:
        "Done, ignored, failed, unmapped…: resets attempts, sets it received and sends it " +
        "through the inbound queue again. Idempotent: the booking is fetched from the platform " +
        "again and imports are revision-ordered, so replaying an applied event changes nothing " +
        "(it ends ignored, stale). 409 while a consumer is processing it.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: {
        202: ok("The event, queued again", EventDetailSchema),
        ...WRITE_ERRORS,
        503: QUEUE_UNAVAILABLE,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await republishEvent(c.env, c.var.auth.tenantId, id, "replay");
      return c.json(await eventDetail(c.env.DB, row), 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/ignore",
      tags,
      summary: "Ignore an event, with a reason (admin)",
      description:
        "Sets it ignored with outcome 'ignored by operator: <reason>' and resolves its dead " +
        "letters as ignored. 409 while it is processing, and for an event already done or ignored.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam, ...jsonBody(ReasonBody) },
      responses: { 200: ok("The ignored event", EventDetailSchema), ...WRITE_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { reason } = c.req.valid("json");
      const row = await ignoreEvent(c.env.DB, c.var.auth.tenantId, id, reason);
      return c.json(await eventDetail(c.env.DB, row), 200);
    },
  );
