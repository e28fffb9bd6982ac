import { z } from "@hono/zod-openapi";
import type { GateStatus } from "../../../durable-objects/channel-gate/client";
import { SYNC_STATUSES } from "../../domain/vocabulary";
import { IdRef } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";
import { presentGateStatus } from "../../services/gate-status";
import { timeRangeQuery } from "../../services/operator";
import type { SyncLogRow } from "../../store/sync-logs";

export const DIRECTIONS = ["inbound", "outbound"] as const;

export const SyncLogSchema = z
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

/** A sync_logs row as the API shows it. */
export function toApiSyncLog(r: SyncLogRow): z.infer<typeof SyncLogSchema> {
  return {
    id: r.id,
    connection_id: r.connectionId,
    event_id: r.eventId,
    sync_type: r.syncType,
    direction: r.direction,
    status: r.status,
    records_processed: r.recordsProcessed,
    retry_count: r.retryCount,
    max_retries: r.maxRetries,
    error: r.error,
    details: r.details,
    triggered_at: r.triggeredAt,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    deadletter_at: r.deadletterAt,
    duration_ms: r.durationMs,
  };
}

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
export function gateToApi(s: GateStatus): z.infer<typeof GateStatusSchema> {
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

export const RetryResult = z
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

export const ListQuery = PageQuery.extend({
  connection_id: IdRef("con_4e1d…").optional(),
  status: z.enum(SYNC_STATUSES).optional(),
  direction: z.enum(DIRECTIONS).optional(),
  ...timeRangeQuery("triggered_at"),
});
