import { and, eq } from "drizzle-orm";
import { d1Statement, orm } from "./db";
import { channelConnections, channelEvents, webhookLog } from "./schema/schema";
import type { Platform } from "./schema/channels.schema";

type EventStatus = typeof channelEvents.$inferInsert.status & string;

/**
 * channel_events and webhook_log, as the inbound consumer writes them (the API's reads are in
 * store/events.ts). The event's own transitions are compare-and-swaps on its state
 * (`WHERE status = ...`, a lease taken with RETURNING) that ride in the consumer's one batch per
 * step beside sync-log transitions whose `meta.changes` it checks: those stay raw SQL, as that
 * all-or-nothing batch is the design. The plain writes beside them are Drizzle builders handed
 * out as D1 statements (d1Statement) for the same batch.
 */

/** Delivery ids remembered per event; beyond them a redelivered copy could count twice. */
const MAX_DELIVERY_IDS = 100;

export interface EventArrival {
  id: string;
  platform: string;
  eventType: string;
  key: string;
  entityExternalId: string;
  receivedAt: number;
  /** The edge's id of this copy (webhooks only): a duplicate copy counts once. */
  deliveryId: string | null;
  now: number;
}

/** Record the event once; a further copy bumps `duplicates` once per delivery id. */
export function recordArrivalStatement(db: D1Database, e: EventArrival): D1PreparedStatement {
  // Raw: the dedupe upsert is the design (a guarded DO UPDATE over json_each of the delivery ids).
  return db
    .prepare(
      `INSERT INTO channel_events (id, platform, direction, event_type, idempotency_key, entity_external_id,
         status, attempts, received_at, updated_at, delivery_ids)
       VALUES (?, ?, 'inbound', ?, ?, ?, 'received', 0, ?, ?, CASE WHEN ?8 IS NULL THEN '[]' ELSE json_array(?8) END)
       ON CONFLICT(idempotency_key) DO UPDATE SET duplicates = duplicates + 1,
         delivery_ids = CASE WHEN json_array_length(delivery_ids) < ${MAX_DELIVERY_IDS}
           THEN json_insert(delivery_ids, '$[#]', ?8) ELSE delivery_ids END
       WHERE ?8 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(channel_events.delivery_ids) WHERE value = ?8)`,
    )
    .bind(
      e.id,
      e.platform,
      e.eventType,
      e.key,
      e.entityExternalId,
      e.receivedAt,
      e.now,
      e.deliveryId,
    );
}

export interface WebhookBody {
  key: string;
  platform: string;
  eventId: string;
  payload: string;
  signature: string | null;
  receivedAt: number;
  now: number;
}

/** The exact signed body, kept once per (platform, event id). */
export function keepWebhookBodyStatement(db: D1Database, w: WebhookBody): D1PreparedStatement {
  return d1Statement(
    db,
    orm(db)
      .insert(webhookLog)
      .values({
        id: w.key,
        platform: w.platform as Platform,
        eventId: w.eventId,
        payload: w.payload,
        signature: w.signature,
        status: "pending",
        receivedAt: w.receivedAt,
        createdAt: w.now,
      })
      .onConflictDoNothing({ target: [webhookLog.platform, webhookLog.eventId] }),
  );
}

/** Take the event's lease (RETURNING id when taken): free, or its holder's lease ran out. */
export function takeLeaseStatement(
  db: D1Database,
  key: string,
  leaseUntil: number,
  now: number,
): D1PreparedStatement {
  // Raw: the compare-and-swap lease; RETURNING id says whether it was taken.
  return db
    .prepare(
      `UPDATE channel_events SET status = 'processing', attempts = attempts + 1, lease_until = ?, updated_at = ?
       WHERE idempotency_key = ?
         AND (status IN ('received', 'retrying', 'failed', 'unmapped') OR (status = 'processing' AND lease_until < ?))
       RETURNING id`,
    )
    .bind(leaseUntil, now, key, now);
}

/** The event's status (after a lease it could not take). */
export async function eventStatus(db: D1Database, key: string): Promise<string | null> {
  const row = await orm(db)
    .select({ status: channelEvents.status })
    .from(channelEvents)
    .where(eq(channelEvents.idempotencyKey, key))
    .get();
  return row?.status ?? null;
}

/** The attempt failed: retrying or failed, its error appended to the attempt log. */
export function attemptFailedStatements(
  db: D1Database,
  key: string,
  f: { status: "retrying" | "failed"; attempt: number; error: string; now: number },
): D1PreparedStatement[] {
  return [
    // Raw: a compare-and-swap on the event's state (only the lease holder's 'processing' row).
    db
      .prepare(
        `UPDATE channel_events SET status = ?, last_error = ?, lease_until = NULL, updated_at = ?,
           attempt_log = json_insert(attempt_log, '$[#]', json_object('attempt', ?, 'at', ?, 'error', ?))
         WHERE idempotency_key = ? AND status = 'processing'`,
      )
      .bind(f.status, f.error, f.now, f.attempt, f.now, f.error, key),
    d1Statement(
      db,
      orm(db)
        .update(webhookLog)
        .set({ error: f.error })
        .where(and(eq(webhookLog.id, key), eq(webhookLog.status, "pending"))),
    ),
  ];
}

/** The event resolved to its connection; the connection heard from its platform. */
export function eventResolvedStatements(
  db: D1Database,
  key: string,
  c: { id: string; tenantId: string; propertyId: string },
  now: number,
): D1PreparedStatement[] {
  return [
    d1Statement(
      db,
      orm(db)
        .update(channelEvents)
        .set({ tenantId: c.tenantId, connectionId: c.id, propertyId: c.propertyId })
        .where(eq(channelEvents.idempotencyKey, key)),
    ),
    d1Statement(
      db,
      orm(db)
        .update(channelConnections)
        .set({ lastWebhookAt: now })
        .where(eq(channelConnections.id, c.id)),
    ),
  ];
}

export interface EventEnd {
  status: string;
  outcome: string;
  tenantId: string | null;
  connectionId: string | null;
  unmappedExternalId: string | null;
  note: { attempt: number; text: string } | null;
  now: number;
}

/** The event's end (done, ignored, unmapped) and its webhook body marked processed. */
export function eventFinishedStatements(
  db: D1Database,
  key: string,
  e: EventEnd,
): D1PreparedStatement[] {
  return [
    // Raw: a compare-and-swap on the event's state (only the lease holder's 'processing' row).
    db
      .prepare(
        `UPDATE channel_events SET status = ?, outcome = ?, processed_at = ?, lease_until = NULL, updated_at = ?,
           tenant_id = COALESCE(tenant_id, ?), connection_id = COALESCE(connection_id, ?),
           entity_external_id = COALESCE(?, entity_external_id),
           attempt_log = CASE WHEN ? IS NULL THEN attempt_log
             ELSE json_insert(attempt_log, '$[#]', json_object('attempt', ?, 'at', ?, 'error', NULL, 'note', ?)) END
         WHERE idempotency_key = ? AND status = 'processing'`,
      )
      .bind(
        e.status,
        e.outcome.slice(0, 2000),
        e.now,
        e.now,
        e.tenantId,
        e.connectionId,
        e.unmappedExternalId,
        e.note?.text ?? null,
        e.note?.attempt ?? null,
        e.now,
        e.note?.text ?? null,
        key,
      ),
    d1Statement(
      db,
      orm(db)
        .update(webhookLog)
        .set({ status: "processed", processedAt: e.now, error: null, tenantId: e.tenantId })
        .where(eq(webhookLog.id, key)),
    ),
  ];
}

export interface PulledEvent {
  id: string;
  connection: { id: string; tenantId: string; propertyId: string; platform: string };
  eventType: string;
  key: string;
  entityExternalId: string;
  status: string;
  outcome: string;
  requestedAt: number;
  finishedAt: number;
}

/** A pull that changed something, recorded as an event already processed (once per key). */
export function pulledEventStatement(db: D1Database, e: PulledEvent): D1PreparedStatement {
  const c = e.connection;
  return d1Statement(
    db,
    orm(db)
      .insert(channelEvents)
      .values({
        id: e.id,
        tenantId: c.tenantId,
        connectionId: c.id,
        propertyId: c.propertyId,
        platform: c.platform as Platform,
        direction: "inbound",
        eventType: e.eventType,
        idempotencyKey: e.key,
        entityExternalId: e.entityExternalId,
        status: e.status as EventStatus,
        attempts: 1,
        outcome: e.outcome.slice(0, 2000),
        receivedAt: e.requestedAt,
        processedAt: e.finishedAt,
        updatedAt: e.finishedAt,
      })
      .onConflictDoNothing({ target: channelEvents.idempotencyKey }),
  );
}
