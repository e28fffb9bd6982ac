import { writeSyncPoint } from "../../domain/metrics";
import type { ConnectionRow } from "../../store/connections";
import {
  confirmSyncTransition,
  openSyncLogForEventStatement,
  syncTransitionStatement,
  type SyncState,
} from "../../domain/sync-log-state";
import type { Platform } from "../../store/schema/channels.schema";
import { base64ToBytes } from "../../lib/encoding";
import { newId } from "../../lib/ids";
import { errorMessage } from "../../lib/log";
import type { InboundMessage } from "../messages";
import type { Disposition } from "../retry-policy";
import { LeaseHeldError } from "./errors";

/**
 * The event's record in D1: channel_events (deduplicated by idempotency key, leased while a
 * delivery works on it, with its attempt log), webhook_log (the exact signed body) and its one
 * sync log. Every write is a compare-and-swap on the event's state.
 */

/** Delivery ids remembered per event; beyond them a redelivered copy could count twice. */
const MAX_DELIVERY_IDS = 100;

/** How long a consumer holds an event before another delivery may take it over. */
const LEASE_MS = 60_000;

export type Finish =
  | {
      status: "done";
      outcome: string;
      tenantId: string;
      connectionId: string;
      records: number;
      /** Added to the attempt log: what this attempt did when an earlier one applied the change. */
      note?: { attempt: number; text: string };
    }
  | {
      status: "ignored" | "unmapped";
      outcome: string;
      tenantId: string | null;
      connectionId: string | null;
      /** The listing/room/hotel id a mapping must name before a replay can import this. */
      unmappedExternalId?: string;
    };

/** The event's sync log, once the event is resolved to a connection and the log is running. */
export interface OpenSync {
  id: string;
  tenantId: string;
  platform: Platform;
  startedAt: number;
  /** Retries before this attempt (attempts - 1). */
  retryCount: number;
}

/** What one delivery attempt learnt along the way (read when it fails). */
export interface Attempt {
  sync: OpenSync | null;
}

/**
 * A failed attempt: the event goes to retrying (or failed: permanent, or its last attempt), its
 * attempt log grows, and its running sync log moves running → retrying (retry_count = retries
 * scheduled so far = this attempt's number) or running → failed.
 */
export async function recordFailure(
  env: Env,
  key: string,
  attemptNo: number,
  err: unknown,
  disposition: Disposition,
  attempt: Attempt,
  now: number,
) {
  const error = errorMessage(err).slice(0, 1000);
  const retrying = disposition.action === "retry";
  const syncTo: SyncState = retrying ? "retrying" : "failed";
  const sync = attempt.sync;
  const syncStatement = sync
    ? syncTransitionStatement(
        env.DB,
        { id: sync.id },
        ["running"],
        syncTo,
        retrying
          ? { error, retryCount: attemptNo }
          : {
              error:
                disposition.action === "exhausted" ||
                (disposition.action === "dead_letter" && disposition.reason === "retries_exhausted")
                  ? `retries exhausted after ${attemptNo} attempts: ${error}`
                  : error,
            },
        now,
      )
    : null;
  const results = await env.DB.batch([
    env.DB.prepare(
      `UPDATE channel_events SET status = ?, last_error = ?, lease_until = NULL, updated_at = ?,
         attempt_log = json_insert(attempt_log, '$[#]', json_object('attempt', ?, 'at', ?, 'error', ?))
       WHERE idempotency_key = ? AND status = 'processing'`,
    ).bind(retrying ? "retrying" : "failed", error, now, attemptNo, now, error, key),
    env.DB.prepare(`UPDATE webhook_log SET error = ? WHERE id = ? AND status = 'pending'`).bind(
      error,
      key,
    ),
    ...(syncStatement ? [syncStatement] : []),
  ]);
  if (!sync || !syncStatement) return;
  const applied = await confirmSyncTransition(
    env.DB,
    { id: sync.id },
    ["running"],
    syncTo,
    results[2]?.meta.changes ?? 0,
  );
  if (applied && syncTo === "failed") {
    writeSyncPoint(env, {
      tenantId: sync.tenantId,
      platform: sync.platform,
      direction: "inbound",
      status: "failed",
      durationMs: now - sync.startedAt,
      retryCount: sync.retryCount,
    });
  }
}

/** Record the event (once), then take its lease: exactly one delivery processes it at a time. */
export async function claimEvent(
  env: Env,
  message: InboundMessage,
  key: string,
  now: number,
): Promise<"claimed" | "duplicate"> {
  // A copy the edge accepted counts once as a duplicate, whichever path then catches it (done,
  // or held by another delivery's lease); the same copy redelivered is not counted again.
  const deliveryId = message.kind === "webhook" ? (message.deliveryId ?? null) : null;
  const statements = [
    env.DB.prepare(
      `INSERT INTO channel_events (id, platform, direction, event_type, idempotency_key, entity_external_id,
         status, attempts, received_at, updated_at, delivery_ids)
       VALUES (?, ?, 'inbound', ?, ?, ?, 'received', 0, ?, ?, CASE WHEN ?8 IS NULL THEN '[]' ELSE json_array(?8) END)
       ON CONFLICT(idempotency_key) DO UPDATE SET duplicates = duplicates + 1,
         delivery_ids = CASE WHEN json_array_length(delivery_ids) < ${MAX_DELIVERY_IDS}
           THEN json_insert(delivery_ids, '$[#]', ?8) ELSE delivery_ids END
       WHERE ?8 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(channel_events.delivery_ids) WHERE value = ?8)`,
    ).bind(
      newId("evt"),
      message.platform,
      message.kind === "webhook" ? message.eventType : "reservations.pull",
      key,
      message.kind === "webhook" ? message.eventId : message.connectionId,
      message.kind === "webhook" ? message.receivedAt : message.requestedAt,
      now,
      deliveryId,
    ),
  ];
  if (message.kind === "webhook") {
    statements.push(
      env.DB.prepare(
        `INSERT INTO webhook_log (id, platform, event_id, payload, signature, status, received_at, created_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT(platform, event_id) DO NOTHING`,
      ).bind(
        key,
        message.platform,
        message.eventId,
        new TextDecoder().decode(base64ToBytes(message.bodyB64)),
        message.signature,
        message.receivedAt,
        now,
      ),
    );
  }
  statements.push(
    env.DB.prepare(
      `UPDATE channel_events SET status = 'processing', attempts = attempts + 1, lease_until = ?, updated_at = ?
       WHERE idempotency_key = ?
         AND (status IN ('received', 'retrying', 'failed', 'unmapped') OR (status = 'processing' AND lease_until < ?))
       RETURNING id`,
    ).bind(now + LEASE_MS, now, key, now),
  );
  const results = await env.DB.batch<{ id: string }>(statements);
  if ((results.at(-1)?.results.length ?? 0) === 1) return "claimed";

  const current = await env.DB.prepare(
    `SELECT status FROM channel_events WHERE idempotency_key = ?`,
  )
    .bind(key)
    .first<{ status: string }>();
  // A second delivery of an event already applied (or a redelivery after the ack was lost).
  if (current?.status === "done" || current?.status === "ignored") return "duplicate";
  throw new LeaseHeldError(`event ${key} is being processed by another delivery`);
}

/** The booking changes this event applied, in any attempt (booking_changes). */
export async function changesMadeBy(
  db: D1Database,
  key: string,
): Promise<Array<{ channelBookingId: string; outcome: string }>> {
  const { results } = await db
    .prepare(
      `SELECT b.channel_booking_id AS channelBookingId, ch.outcome FROM booking_changes ch
       JOIN bookings b ON b.id = ch.booking_id AND b.tenant_id = ch.tenant_id
       WHERE ch.event_key = ? ORDER BY ch.created_at, ch.id`,
    )
    .bind(key)
    .all<{ channelBookingId: string; outcome: string }>();
  return results;
}

/**
 * One sync log per event: created in `triggered` the first time the event resolves to a
 * connection, then → running; a redelivery after `retrying` takes the same log retrying → running.
 * A delivery taking over from one that died mid-attempt finds it `running` already and goes on.
 */
export async function startSyncLog(
  env: Env,
  key: string,
  c: ConnectionRow,
  attempt: number,
  maxRetries: number,
  now: number,
): Promise<OpenSync | null> {
  const toRunning: readonly SyncState[] = ["triggered", "retrying"];
  const running = syncTransitionStatement(env.DB, { eventId: key }, toRunning, "running", {}, now);
  if (!running) throw new Error("sync log state table forbids → running");
  const results = await env.DB.batch([
    env.DB.prepare(
      `UPDATE channel_events SET tenant_id = ?, connection_id = ?, property_id = ? WHERE idempotency_key = ?`,
    ).bind(c.tenantId, c.id, c.propertyId, key),
    env.DB.prepare(`UPDATE channel_connections SET last_webhook_at = ? WHERE id = ?`).bind(
      now,
      c.id,
    ),
    openSyncLogForEventStatement(
      env.DB,
      {
        tenantId: c.tenantId,
        connectionId: c.id,
        eventId: key,
        syncType: "booking_import",
        direction: "inbound",
        maxRetries,
        retryCount: attempt - 1,
      },
      now,
    ),
    running,
    env.DB.prepare(
      `SELECT id, status, started_at AS startedAt FROM sync_logs
       WHERE event_id = ? AND status = 'running' ORDER BY triggered_at DESC LIMIT 1`,
    ).bind(key),
  ]);
  await confirmSyncTransition(
    env.DB,
    { eventId: key },
    toRunning,
    "running",
    results[3]?.meta.changes ?? 0,
    { quietIf: ["running"] },
  );
  const row = results.at(-1)?.results[0] as { id: string; startedAt: number | null } | undefined;
  if (!row) return null;
  return {
    id: row.id,
    tenantId: c.tenantId,
    platform: c.platform,
    startedAt: row.startedAt ?? now,
    retryCount: attempt - 1,
  };
}

export async function finish(
  env: Env,
  key: string,
  f: Finish,
  now: number,
  also: D1PreparedStatement[] = [],
  sync: OpenSync | null = null,
) {
  const syncStatement = sync
    ? syncTransitionStatement(
        env.DB,
        { id: sync.id },
        ["running"],
        "success",
        {
          recordsProcessed: f.status === "done" ? f.records : 0,
          details: f.outcome,
          // Earlier attempts' errors stay in the event's attempt_log.
          error: null,
        },
        now,
      )
    : null;
  const note = f.status === "done" ? f.note : undefined;
  const results = await env.DB.batch([
    ...also,
    env.DB.prepare(
      `UPDATE channel_events SET status = ?, outcome = ?, processed_at = ?, lease_until = NULL, updated_at = ?,
         tenant_id = COALESCE(tenant_id, ?), connection_id = COALESCE(connection_id, ?),
         entity_external_id = COALESCE(?, entity_external_id),
         attempt_log = CASE WHEN ? IS NULL THEN attempt_log
           ELSE json_insert(attempt_log, '$[#]', json_object('attempt', ?, 'at', ?, 'error', NULL, 'note', ?)) END
       WHERE idempotency_key = ? AND status = 'processing'`,
    ).bind(
      f.status,
      f.outcome.slice(0, 2000),
      now,
      now,
      f.tenantId,
      f.connectionId,
      f.status === "unmapped" ? (f.unmappedExternalId ?? null) : null,
      note?.text ?? null,
      note?.attempt ?? null,
      now,
      note?.text ?? null,
      key,
    ),
    env.DB.prepare(
      `UPDATE webhook_log SET status = 'processed', processed_at = ?, error = NULL, tenant_id = ? WHERE id = ?`,
    ).bind(now, f.tenantId, key),
    ...(syncStatement ? [syncStatement] : []),
  ]);
  if (!sync || !syncStatement) return;
  const applied = await confirmSyncTransition(
    env.DB,
    { id: sync.id },
    ["running"],
    "success",
    results.at(-1)?.meta.changes ?? 0,
  );
  if (applied) {
    writeSyncPoint(env, {
      tenantId: sync.tenantId,
      platform: sync.platform,
      direction: "inbound",
      status: "success",
      durationMs: now - sync.startedAt,
      retryCount: sync.retryCount,
    });
  }
}
