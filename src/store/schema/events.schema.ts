import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { PLATFORMS } from "./channels.schema";
import { SYNC_STATUSES } from "../../domain/vocabulary";

/** unmapped: kept until a mapping for its listing/room exists, then replayed. */
export const EVENT_STATUSES = [
  "received",
  "processing",
  "done",
  "retrying",
  "failed",
  "ignored",
  "unmapped",
] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** Every inbound and outbound event, deduplicated by its idempotency key. */
export const channelEvents = sqliteTable(
  "channel_events",
  {
    id: text("id").primaryKey(),
    /** Null until the event is resolved to a connection (a webhook names a listing, not a tenant). */
    tenantId: text("tenant_id"),
    connectionId: text("connection_id"),
    propertyId: text("property_id"),
    platform: text("platform", { enum: PLATFORMS }).notNull(),
    direction: text("direction", { enum: ["inbound", "outbound"] }).notNull(),
    eventType: text("event_type").notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    entityExternalId: text("entity_external_id"),
    status: text("status", { enum: EVENT_STATUSES }).notNull().default("received"),
    attempts: integer("attempts").notNull().default(0),
    /** A consumer holds the event until then; a crashed holder's lease runs out. */
    leaseUntil: integer("lease_until"),
    /** Deliveries of this event after the first, each counted once (see delivery_ids). */
    duplicates: integer("duplicates").notNull().default(0),
    /**
     * JSON array of the delivery ids the edge stamped on each accepted copy of this event, so a
     * redelivery of the same queue message is not counted again while a new copy always is.
     */
    deliveryIds: text("delivery_ids").notNull().default("[]"),
    lastError: text("last_error"),
    /** JSON array of {attempt, at, error} for every failed attempt (dead letters keep it). */
    attemptLog: text("attempt_log").notNull().default("[]"),
    /** Why an event was ignored (duplicate, stale revision, unmapped, ...). */
    outcome: text("outcome"),
    receivedAt: integer("received_at").notNull(),
    processedAt: integer("processed_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("channel_events_idempotency_uq").on(t.idempotencyKey),
    index("channel_events_status_idx").on(t.status, t.receivedAt),
    index("channel_events_tenant_idx").on(t.tenantId, t.receivedAt),
    index("channel_events_connection_idx").on(t.connectionId, t.status, t.updatedAt),
    index("channel_events_unmapped_idx").on(t.platform, t.entityExternalId, t.status),
    index("channel_events_tenant_updated_idx").on(t.tenantId, t.updatedAt),
  ],
);

export const webhookLog = sqliteTable(
  "webhook_log",
  {
    id: text("id").primaryKey(),
    platform: text("platform", { enum: PLATFORMS }).notNull(),
    eventId: text("event_id").notNull(),
    tenantId: text("tenant_id"),
    payload: text("payload").notNull(),
    signature: text("signature"),
    status: text("status", { enum: ["pending", "processed", "failed"] })
      .notNull()
      .default("pending"),
    processedAt: integer("processed_at"),
    error: text("error"),
    /** When the edge accepted it; processed_at - received_at is the processing latency. */
    receivedAt: integer("received_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_log_platform_event_uq").on(t.platform, t.eventId),
    index("webhook_log_platform_created_idx").on(t.platform, t.createdAt),
    index("webhook_log_tenant_received_idx").on(t.tenantId, t.receivedAt),
  ],
);

export { SYNC_STATUSES };

export const syncLogs = sqliteTable(
  "sync_logs",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    connectionId: text("connection_id").notNull(),
    eventId: text("event_id"),
    syncType: text("sync_type").notNull(),
    direction: text("direction", { enum: ["inbound", "outbound"] }).notNull(),
    status: text("status", { enum: SYNC_STATUSES }).notNull(),
    recordsProcessed: integer("records_processed").notNull().default(0),
    retryCount: integer("retry_count").notNull().default(0),
    maxRetries: integer("max_retries").notNull().default(5),
    error: text("error"),
    details: text("details"),
    triggeredAt: integer("triggered_at").notNull(),
    startedAt: integer("started_at"),
    finishedAt: integer("finished_at"),
    deadletterAt: integer("deadletter_at"),
    durationMs: integer("duration_ms"),
  },
  (t) => [
    index("sync_logs_connection_idx").on(t.tenantId, t.connectionId, t.triggeredAt),
    index("sync_logs_event_idx").on(t.eventId),
    index("sync_logs_status_idx").on(t.status, t.triggeredAt),
    // The sync metrics read a tenant's logs over a time range, across its connections.
    index("sync_logs_tenant_time_idx").on(t.tenantId, t.triggeredAt),
  ],
);

/** Full context of a message that exhausted its retries (or failed permanently). */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    queue: text("queue").notNull(),
    messageId: text("message_id").notNull(),
    tenantId: text("tenant_id"),
    connectionId: text("connection_id"),
    platform: text("platform"),
    idempotencyKey: text("idempotency_key"),
    body: text("body").notNull(),
    error: text("error"),
    attempts: integer("attempts").notNull(),
    /** JSON array of {attempt, at, error} for every attempt that failed. */
    attemptLog: text("attempt_log").notNull().default("[]"),
    createdAt: integer("created_at").notNull(),
    resolvedAt: integer("resolved_at"),
    /** How it was resolved: retried, replayed or ignored (with the operator's reason). */
    resolution: text("resolution", { enum: ["retried", "replayed", "ignored"] }),
    resolutionNote: text("resolution_note"),
  },
  (t) => [
    uniqueIndex("dead_letters_queue_message_uq").on(t.queue, t.messageId),
    index("dead_letters_tenant_idx").on(t.tenantId, t.createdAt),
    index("dead_letters_connection_idx").on(t.connectionId, t.resolvedAt),
    index("dead_letters_key_idx").on(t.idempotencyKey),
  ],
);

export const alerts = sqliteTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id"),
    kind: text("kind").notNull(),
    severity: text("severity", { enum: ["info", "warning", "critical"] }).notNull(),
    message: text("message").notNull(),
    details: text("details"),
    /** Same key, one open alert: repeats bump `occurrences` instead of flooding. */
    dedupeKey: text("dedupe_key").notNull(),
    occurrences: integer("occurrences").notNull().default(1),
    createdAt: integer("created_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
    acknowledgedAt: integer("acknowledged_at"),
  },
  (t) => [
    uniqueIndex("alerts_dedupe_uq").on(t.dedupeKey),
    index("alerts_tenant_idx").on(t.tenantId, t.createdAt),
  ],
);

/**
 * Transactional outbox: "these nights changed" rows written in the same D1 batch as the booking
 * change, relayed to the outbound queue right after commit (and by cron if that relay is lost).
 */
export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    propertyId: text("property_id").notNull(),
    roomTypeId: text("room_type_id").notNull(),
    startDate: text("start_date").notNull(),
    endDate: text("end_date").notNull(),
    /** Platform the change came from: fan-out skips it (no echo), unless `include_source`. */
    sourcePlatform: text("source_platform"),
    includeSource: integer("include_source", { mode: "boolean" }).notNull().default(false),
    causeKey: text("cause_key").notNull(),
    /** What changed on these nights: bookings change availability, rate updates change price. */
    aspect: text("aspect", { enum: ["availability", "price"] })
      .notNull()
      .default("availability"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("outbox_cause_idx").on(t.causeKey), index("outbox_created_idx").on(t.createdAt)],
);

/**
 * Leases for cron jobs: Cron Triggers promise neither exactly-once nor no-overlap, so a job runs
 * only while it holds its row (taken with a conditional UPDATE).
 */
export const jobLeases = sqliteTable("job_leases", {
  name: text("name").primaryKey(),
  holder: text("holder").notNull(),
  leaseUntil: integer("lease_until").notNull(),
  lastRunAt: integer("last_run_at"),
  lastResult: text("last_result"),
});
