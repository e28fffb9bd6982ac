import { writeSyncPoint } from "../../lib/metrics";
import type { ConnectionRow } from "../../store/connections";
import type { SyncState } from "../../domain/sync-log-state";
import {
  attemptFailedStatements,
  eventFinishedStatements,
  eventResolvedStatements,
  eventStatus,
  keepWebhookBodyStatement,
  recordArrivalStatement,
  takeLeaseStatement,
} from "../../store/event-log";
import {
  confirmSyncTransition,
  openSyncLogForEventStatement,
  runningSyncLogOfEventStatement,
  syncTransitionStatement,
} from "../../store/sync-log-transitions";
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
 * sync log. Every write is a compare-and-swap on the event's state (store/event-log.ts).
 */

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
    ...attemptFailedStatements(env.DB, key, {
      status: retrying ? "retrying" : "failed",
      attempt: attemptNo,
      error,
      now,
    }),
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
    recordArrivalStatement(env.DB, {
      id: newId("evt"),
      platform: message.platform,
      eventType: message.kind === "webhook" ? message.eventType : "reservations.pull",
      key,
      entityExternalId: message.kind === "webhook" ? message.eventId : message.connectionId,
      receivedAt: message.kind === "webhook" ? message.receivedAt : message.requestedAt,
      deliveryId,
      now,
    }),
  ];
  if (message.kind === "webhook") {
    statements.push(
      keepWebhookBodyStatement(env.DB, {
        key,
        platform: message.platform,
        eventId: message.eventId,
        payload: new TextDecoder().decode(base64ToBytes(message.bodyB64)),
        signature: message.signature,
        receivedAt: message.receivedAt,
        now,
      }),
    );
  }
  statements.push(takeLeaseStatement(env.DB, key, now + LEASE_MS, now));
  const results = await env.DB.batch<{ id: string }>(statements);
  if ((results.at(-1)?.results.length ?? 0) === 1) return "claimed";

  const status = await eventStatus(env.DB, key);
  // A second delivery of an event already applied (or a redelivery after the ack was lost).
  if (status === "done" || status === "ignored") return "duplicate";
  throw new LeaseHeldError(`event ${key} is being processed by another delivery`);
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
    ...eventResolvedStatements(env.DB, key, c, now),
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
    runningSyncLogOfEventStatement(env.DB, key),
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
    ...eventFinishedStatements(env.DB, key, {
      status: f.status,
      outcome: f.outcome,
      tenantId: f.tenantId,
      connectionId: f.connectionId,
      unmappedExternalId: f.status === "unmapped" ? (f.unmappedExternalId ?? null) : null,
      note: note ?? null,
      now,
    }),
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
