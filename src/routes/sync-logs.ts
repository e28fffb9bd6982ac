import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, requireTenantAuth } from "../http/auth";
import { gateFor, type GateStatus } from "../../durable-objects/channel-gate/client";
import { SYNC_STATUSES } from "../store/schema/events.schema";
import { ApiError } from "../http/errors";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  IdParam,
  IdRef,
  ok,
  WRITE_ERRORS,
} from "../http/openapi";
import { afterCursor, page, pageSchema, PageQuery } from "../http/pagination";
import { log } from "../lib/log";
import { presentGateStatus } from "../services/gate-status";
import { eventDetail, QUEUE_UNAVAILABLE, republishEvent, timeRangeQuery, Where } from "./events";

/**
 * Operator controls over the sync log (issue 4 §4): list every inbound and outbound sync of the
 * tenant, and retry one. An inbound sync is retried through its event (the event's state rules);
 * an outbound one by flushing its connection's ChannelGate now, which pushes the current state of
 * every pending night (state, not deltas, so a flush is always safe to repeat).
 */

const DIRECTIONS = ["inbound", "outbound"] as const;

const SyncLogSchema = z
  .object({
    id: z.string().openapi({ example: "syn_0c7e…" }),
    connection_id: z.string(),
    event_id: z
      .string()
      .nullable()
      .openapi({ description: "Inbound: its event's idempotency key; null for outbound" }),
    sync_type: z.string().openapi({ example: "booking_import" }),
    direction: z.enum(DIRECTIONS),
    status: z.enum(SYNC_STATUSES),
    records_processed: z.number().int(),
    retry_count: z.number().int(),
    max_retries: z.number().int(),
    error: z.string().nullable(),
    details: z.string().nullable(),
    triggered_at: z.number().int(),
    started_at: z.number().int().nullable(),
    finished_at: z.number().int().nullable(),
    deadletter_at: z.number().int().nullable(),
    duration_ms: z.number().int().nullable(),
  })
  .openapi("SyncLogEntry");
type SyncLogRow = z.infer<typeof SyncLogSchema>;

const COLUMNS = `id, connection_id, event_id, sync_type, direction, status, records_processed, retry_count,
  max_retries, error, details, triggered_at, started_at, finished_at, deadletter_at, duration_ms`;

const DateRangeSchema = z.object({ start: z.string(), end: z.string() });
const GateStatusSchema = z
  .object({
    connection_id: z.string().nullable(),
    pending_nights: z.number().int(),
    pending: z.array(z.object({ room_type_id: z.string(), ranges: z.array(DateRangeSchema) })),
    jobs: z.array(z.object({ name: z.string(), due_at: z.number(), attempts: z.number().int() })),
    last_push_at: z.number().nullable(),
    last_error: z.string().nullable(),
    consecutive_failures: z.number().int(),
    blocked_reason: z.string().nullable(),
    circuit_state: z.string(),
  })
  .openapi("ChannelGateStatus");

/** The parts of the one gate-status presenter (services/gate-status.ts) this schema documents. */
function gateToApi(s: GateStatus): z.infer<typeof GateStatusSchema> {
  const g = presentGateStatus(s);
  return {
    connection_id: g.connection_id,
    pending_nights: g.pending_nights,
    pending: g.pending.map((p) => ({ room_type_id: p.room_type_id, ranges: p.ranges })),
    jobs: g.jobs,
    last_push_at: g.last_push_at,
    last_error: g.last_error,
    consecutive_failures: g.consecutive_failures,
    blocked_reason: g.blocked_reason,
    circuit_state: g.circuit_state,
  };
}

const RetryResult = z
  .object({
    sync_log: SyncLogSchema,
    event: z.unknown().nullable().openapi({
      description: "Inbound: the retried event (ChannelEventDetail); null for outbound",
    }),
    gate: GateStatusSchema.nullable().openapi({
      description: "Outbound: the connection's ChannelGate after the flush; null for inbound",
    }),
  })
  .openapi("SyncLogRetry");

const notFound = (id: string) => new ApiError(404, "not_found", `sync log ${id} not found`);

async function ownSyncLog(db: D1Database, tenantId: string, id: string): Promise<SyncLogRow> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM sync_logs WHERE id = ? AND tenant_id = ?`)
    .bind(id, tenantId)
    .first<SyncLogRow>();
  if (!row) throw notFound(id);
  return row;
}

const ListQuery = PageQuery.extend({
  connection_id: IdRef("con_4e1d…").optional(),
  status: z.enum(SYNC_STATUSES).optional(),
  direction: z.enum(DIRECTIONS).optional(),
  ...timeRangeQuery("triggered_at"),
});

const tags = ["Operations: sync logs"];

/** /api/v1/sync-logs */
export const syncLogs = createRouter();
syncLogs.use("*", requireTenantAuth);
syncLogs
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List the tenant's sync log, newest first",
      description: "from/to bound triggered_at (epoch ms).",
      security: BEARER,
      request: { query: ListQuery },
      responses: {
        200: ok("A page of sync log entries", pageSchema(SyncLogSchema)),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const k = afterCursor(q.cursor, "triggered_at");
      const w = new Where().add("tenant_id = ?", c.var.auth.tenantId);
      if (q.connection_id) w.add("connection_id = ?", q.connection_id);
      if (q.status) w.add("status = ?", q.status);
      if (q.direction) w.add("direction = ?", q.direction);
      if (q.from !== undefined) w.add("triggered_at >= ?", q.from);
      if (q.to !== undefined) w.add("triggered_at < ?", q.to);
      const rows = await c.env.DB.prepare(
        `SELECT ${COLUMNS} FROM sync_logs WHERE ${w.sql()} ${k.sql}
         ORDER BY triggered_at DESC, id DESC LIMIT ?`,
      )
        .bind(...w.binds, ...k.binds, q.limit + 1)
        .all<SyncLogRow>();
      return c.json(
        page(rows.results, q.limit, (r) => r.triggered_at),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/retry",
      tags,
      summary: "Retry a sync (admin)",
      description:
        "Inbound: retries its event (only a failed, retrying or unmapped event; 409 names its " +
        "state) and answers 202 with it. Outbound: flushes the connection's ChannelGate now, " +
        "pushing the current state of every pending night, and answers 200 with the gate's status.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: {
        200: ok("Outbound: the gate was flushed", RetryResult),
        202: ok("Inbound: its event is queued again", RetryResult),
        ...WRITE_ERRORS,
        503: QUEUE_UNAVAILABLE,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const tenantId = c.var.auth.tenantId;
      const db = c.env.DB;
      const sync = await ownSyncLog(db, tenantId, id);
      if (sync.direction === "inbound") {
        const event = sync.event_id
          ? await db
              .prepare(`SELECT id FROM channel_events WHERE idempotency_key = ? AND tenant_id = ?`)
              .bind(sync.event_id, tenantId)
              .first<{ id: string }>()
          : null;
        if (!event) {
          throw new ApiError(
            409,
            "not_retryable",
            `sync log ${id} cannot be retried: its event is no longer kept`,
          );
        }
        const row = await republishEvent(c.env, tenantId, event.id, "retry", {
          note: `retried by an operator (sync log ${id})`,
        });
        return c.json({ sync_log: sync, event: await eventDetail(db, row), gate: null }, 202);
      }
      const connection = await db
        .prepare(
          `SELECT id FROM channel_connections WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL`,
        )
        .bind(sync.connection_id, tenantId)
        .first<{ id: string }>();
      if (!connection) {
        throw new ApiError(
          409,
          "not_retryable",
          `sync log ${id} cannot be retried: its connection was deleted`,
        );
      }
      const status = await gateFor(c.env, connection.id).flushNow();
      log("info", "operator.sync_retry_flush", {
        tenantId,
        syncLogId: id,
        connectionId: connection.id,
        pendingNights: status.pendingNights,
      });
      return c.json({ sync_log: sync, event: null, gate: gateToApi(status) }, 200);
    },
  );
