import { engineConfig, type EngineConfig } from "../config";
import type { Platform } from "../db/channels.schema";
import { raiseAlert } from "../domain/alerts";
import {
  importChannelBooking,
  CrossTenantBookingError,
  type ImportResult,
} from "../domain/booking-import";
import {
  findConnection,
  findConnectionByExternalProperty,
  findRoomMapping,
  inboundBlockReason,
  type ConnectionRow,
} from "../domain/connections";
import { writeSyncPoint } from "../domain/metrics";
import {
  confirmSyncTransition,
  openSyncLogForEventStatement,
  syncTransitionStatement,
  type SyncState,
} from "../domain/sync-log-state";
import { base64ToBytes } from "../lib/base64";
import { newId } from "../lib/ids";
import { errorMessage, log } from "../lib/log";
import { count } from "../lib/metrics";
import { adapterFor } from "../platforms/registry";
import {
  PlatformError,
  type ChannelBooking,
  type GateResult,
  type PulledThroughGate,
  type WebhookHint,
} from "../platforms/types";
import { idempotencyKeyOf, inboundMessage, type InboundMessage } from "./messages";
import { deleteRelayed, relayOutboxFor } from "./outbox";
import { dispositionFor, PermanentError, retryPolicyFor, type Disposition } from "./retry-policy";

export interface ConsumerDeps {
  now: () => number;
  fetch: typeof fetch;
  random: () => number;
}

export const defaultDeps = (): ConsumerDeps => ({
  now: () => Date.now(),
  fetch: (input, init) => fetch(input, init),
  random: Math.random,
});

/** Delivery ids remembered per event; beyond them a redelivered copy could count twice. */
const MAX_DELIVERY_IDS = 100;

/** How long a consumer holds an event before another delivery may take it over. */
const LEASE_MS = 60_000;

/** Another delivery of the same event holds the lease: come back later, do not process twice. */
class LeaseHeldError extends Error {
  override name = "LeaseHeldError";
}

type Finish =
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
interface OpenSync {
  id: string;
  tenantId: string;
  platform: Platform;
  startedAt: number;
  /** Retries before this attempt (attempts - 1). */
  retryCount: number;
}

/** What one delivery attempt learnt along the way (read when it fails). */
interface Attempt {
  sync: OpenSync | null;
}

export interface DeadLetterEnvelope {
  kind: "dead_letter";
  reason: string;
  error: string;
  attempts: number;
  original: unknown;
}

export async function handleInboundBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  deps: ConsumerDeps = defaultDeps(),
): Promise<void> {
  await Promise.all(batch.messages.map((msg) => handleInboundMessage(msg, env, deps)));
}

async function handleInboundMessage(msg: Message<unknown>, env: Env, deps: ConsumerDeps) {
  const parsed = inboundMessage.safeParse(msg.body);
  if (!parsed.success) {
    await deadLetterNow(env, msg, "invalid_message", parsed.error.message);
    return;
  }
  const message = parsed.data;
  const key = idempotencyKeyOf(message);
  const config = engineConfig(env);
  const started = deps.now();
  const attempt: Attempt = { sync: null };
  try {
    const finish = await processInbound(env, deps, message, key, msg.attempts, attempt, config);
    count("inbound_processed_total", { platform: message.platform, status: finish });
    msg.ack();
  } catch (err) {
    if (
      err instanceof GateHeldError &&
      (await holdForGate(env, msg, message, key, err, attempt, deps))
    )
      return;
    const disposition: Disposition =
      err instanceof LeaseHeldError
        ? { action: "retry", delaySeconds: 5 }
        : dispositionFor(err, msg.attempts, retryPolicyFor(config, message.platform), deps.random);
    log("warn", "inbound.failed", {
      key,
      attempt: msg.attempts,
      action: disposition.action,
      error: errorMessage(err),
      ms: deps.now() - started,
    });
    if (!(err instanceof LeaseHeldError)) {
      await recordFailure(env, key, msg.attempts, err, disposition, attempt, deps.now()).catch(
        (e) => log("error", "inbound.record_failure_failed", { key, error: errorMessage(e) }),
      );
    }
    if (disposition.action === "dead_letter") {
      await deadLetterNow(env, msg, disposition.reason, errorMessage(err));
    } else {
      // On the last attempt ("exhausted") too: past max_retries the queue moves the message to
      // the dead-letter queue, whose consumer stores it with its whole context.
      msg.retry({ delaySeconds: disposition.delaySeconds });
    }
  }
}

/** Past this age an event the gate keeps holding is handled like any failure (and may dead-letter). */
export const MAX_GATE_HOLD_MS = 24 * 3_600_000;
/** Longest delay a queue message may be sent with. */
const MAX_QUEUE_DELAY_SECONDS = 43_200;

/**
 * The ChannelGate held the platform call (rate limit, open circuit): nothing was sent, so this is
 * no failure and must not use up a retry — a long platform outage would otherwise dead-letter
 * every booking made during it. The event goes back on the queue, delayed until the gate can
 * call, as a new message (the queue counts attempts per message), and the original is acked
 * once that send succeeded. After MAX_GATE_HOLD_MS it is treated as a failure after all.
 */
async function holdForGate(
  env: Env,
  msg: Message<unknown>,
  message: InboundMessage,
  key: string,
  err: GateHeldError,
  attempt: Attempt,
  deps: ConsumerDeps,
): Promise<boolean> {
  const now = deps.now();
  const since = message.kind === "webhook" ? message.receivedAt : message.requestedAt;
  if (now - since > MAX_GATE_HOLD_MS) return false;
  const delaySeconds = Math.min(
    MAX_QUEUE_DELAY_SECONDS,
    Math.max(1, Math.ceil((err.heldUntil - now) / 1000)),
  );
  const deferrals = (message.deferrals ?? 0) + 1;
  try {
    await env.INBOUND_QUEUE.send({ ...message, deferrals }, { contentType: "json", delaySeconds });
  } catch (sendErr) {
    log("error", "inbound.hold_send_failed", { key, error: errorMessage(sendErr) });
    return false;
  }
  log("info", "inbound.held_by_gate", { key, deferrals, delaySeconds, error: errorMessage(err) });
  count("inbound_held_total", { platform: message.platform });
  await recordFailure(
    env,
    key,
    msg.attempts,
    err,
    { action: "retry", delaySeconds },
    attempt,
    now,
  ).catch((e) => log("error", "inbound.record_failure_failed", { key, error: errorMessage(e) }));
  msg.ack();
  return true;
}

/** Send straight to the dead-letter queue (permanent failure), acking only once it is there. */
async function deadLetterNow(env: Env, msg: Message<unknown>, reason: string, error: string) {
  const envelope: DeadLetterEnvelope = {
    kind: "dead_letter",
    reason,
    error,
    attempts: msg.attempts,
    original: msg.body,
  };
  try {
    await env.INBOUND_DLQ.send(envelope, { contentType: "json" });
    msg.ack();
  } catch (err) {
    log("error", "inbound.dead_letter_send_failed", { error: errorMessage(err) });
    msg.retry({ delaySeconds: 5 });
  }
}

/**
 * A failed attempt: the event goes to retrying (or failed: permanent, or its last attempt), its
 * attempt log grows, and its running sync log moves running → retrying (retry_count = retries
 * scheduled so far = this attempt's number) or running → failed.
 */
async function recordFailure(
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
async function claimEvent(
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

function hintOf(message: InboundMessage, connection: ConnectionRow | null): WebhookHint {
  if (message.kind === "pull") {
    return {
      eventId: message.key,
      eventType: "reservations.pull",
      externalPropertyId: connection?.externalPropertyId,
    };
  }
  const adapter = adapterFor(message.platform);
  const body: unknown = JSON.parse(new TextDecoder().decode(base64ToBytes(message.bodyB64)));
  return adapter.parseWebhook(body);
}

async function resolveConnection(
  env: Env,
  platform: Platform,
  message: InboundMessage,
  hint: WebhookHint | null,
): Promise<
  | { connection: ConnectionRow; knownRoom?: { externalRoomId: string; roomTypeId: string } }
  | { unmapped: string }
> {
  if (message.kind === "pull") {
    const c = await findConnection(env.DB, message.connectionId);
    return c
      ? { connection: c }
      : { unmapped: `connection ${message.connectionId} no longer exists` };
  }
  if (hint?.externalPropertyId) {
    const c = await findConnectionByExternalProperty(env.DB, platform, hint.externalPropertyId);
    return c
      ? { connection: c }
      : { unmapped: `no ${platform} connection for property ${hint.externalPropertyId}` };
  }
  if (hint?.externalRoomId) {
    const m = await findRoomMapping(env.DB, platform, hint.externalRoomId);
    return m
      ? {
          connection: m.connection,
          knownRoom: { externalRoomId: hint.externalRoomId, roomTypeId: m.roomTypeId },
        }
      : { unmapped: `no ${platform} mapping for listing ${hint.externalRoomId}` };
  }
  return { unmapped: `${platform} event names neither a property nor a listing` };
}

async function processInbound(
  env: Env,
  deps: ConsumerDeps,
  message: InboundMessage,
  key: string,
  attempt: number,
  run: Attempt,
  engine: EngineConfig,
): Promise<Finish["status"] | "duplicate"> {
  const now = deps.now();
  if ((await claimEvent(env, message, key, now)) === "duplicate") {
    log("info", "inbound.duplicate", { key });
    return "duplicate";
  }
  const platform = message.platform;
  adapterFor(platform); // a platform without an adapter fails here, before any write
  const preliminary = message.kind === "pull" ? null : hintOf(message, null);
  const resolved = await resolveConnection(env, platform, message, preliminary);
  if ("unmapped" in resolved) {
    await raiseAlert(
      env.DB,
      {
        tenantId: null,
        kind: "unmapped_inbound",
        severity: "warning",
        message: resolved.unmapped,
        details: { key, platform },
        dedupeKey: `unmapped_inbound:${resolved.unmapped}`,
      },
      now,
    );
    // Kept, not dropped: creating the mapping replays it (src/queue/replay-unmapped.ts).
    await finish(
      env,
      key,
      {
        status: "unmapped",
        outcome: `unmapped: ${resolved.unmapped}`,
        tenantId: null,
        connectionId: null,
        unmappedExternalId: preliminary?.externalRoomId ?? preliminary?.externalPropertyId,
      },
      deps.now(),
    );
    return "unmapped";
  }
  const { connection, knownRoom } = resolved;
  const blocked = inboundBlockReason(connection);
  if (blocked) {
    await finish(
      env,
      key,
      {
        status: "ignored",
        outcome: blocked,
        tenantId: connection.tenantId,
        connectionId: connection.id,
      },
      deps.now(),
    );
    return "ignored";
  }
  run.sync = await startSyncLog(
    env,
    key,
    connection,
    attempt,
    engine.maxRetriesByPlatform[platform],
    now,
  );

  const hint = preliminary ?? hintOf(message, connection);
  // The platform is called from the connection's ChannelGate: its limiter, breaker and tokens.
  const gate = env.CHANNEL_GATE.getByName(connection.id);
  const pulled = unwrapGate(
    platform,
    // RPC wraps the declared type; the value is exactly the gate's GateResult.
    (await gate.pullBookings({
      tenantId: connection.tenantId,
      connectionId: connection.id,
      hint,
    })) as GateResult<PulledThroughGate>,
  );

  const results: Array<ImportResult & { channelBookingId: string }> = [];
  const unmapped: string[] = [];
  for (const booking of pulled.bookings) {
    const mapping =
      knownRoom?.externalRoomId === booking.externalRoomId
        ? knownRoom
        : await findRoomMapping(env.DB, platform, booking.externalRoomId, connection.id);
    if (!mapping) {
      // Stored as `unmapped` (holding no nights) and not acknowledged, so the platform offers it
      // again; once the room is mapped, the replay's pull imports it.
      await storeUnmappedBooking(env.DB, connection, booking, deps.now());
      unmapped.push(booking.externalRoomId);
      continue;
    }
    try {
      const result = await importChannelBooking(
        {
          db: env.DB,
          tenantId: connection.tenantId,
          propertyId: connection.propertyId,
          connectionId: connection.id,
          platform,
          causeKey: key,
          now: deps.now(),
        },
        booking,
        mapping.roomTypeId,
      );
      results.push({ ...result, channelBookingId: booking.channelBookingId });
    } catch (err) {
      if (err instanceof CrossTenantBookingError) throw new PermanentError(err.message);
      throw err;
    }
  }
  for (const room of unmapped) {
    await raiseAlert(
      env.DB,
      {
        tenantId: connection.tenantId,
        kind: "unmapped_inbound",
        severity: "warning",
        message: `${platform} booking for unmapped room ${room} on connection ${connection.id}`,
        details: { key, room },
        dedupeKey: `unmapped_inbound:${connection.id}:${room}`,
      },
      deps.now(),
    );
  }

  // Fan out only after the booking batch committed; the outbox makes this survive a crash here.
  const relayed = await relayOutboxFor(env, key);
  // Tell a pull platform we have them, only once they are stored (it re-sends until then).
  const stored = new Set(results.map((r) => r.channelBookingId));
  if (pulled.acknowledgement !== null && stored.size > 0) {
    unwrapGate(
      platform,
      (await gate.acknowledge({
        tenantId: connection.tenantId,
        connectionId: connection.id,
        acknowledgement: pulled.acknowledgement,
        stored: [...stored],
      })) as GateResult<null>,
    );
  }

  const outcome =
    results.length === 0
      ? unmapped.length > 0
        ? `unmapped rooms: ${unmapped.join(", ")}`
        : "nothing to import"
      : results.map((r) => `${r.channelBookingId}: ${r.outcome}`).join("; ");
  const applied = results.some((r) => r.outcome !== "stale");
  // Nothing new now, but an earlier attempt of this very event may have applied it (its
  // acknowledgement or its bookkeeping failed after the booking batch committed): the event
  // stays what it was, the one that made the change.
  const earlier = applied || results.length === 0 ? [] : await changesMadeBy(env.DB, key);
  if (earlier.length > 0) {
    await finish(
      env,
      key,
      {
        status: "done",
        outcome: earlier.map((e) => `${e.channelBookingId}: ${e.outcome}`).join("; "),
        tenantId: connection.tenantId,
        connectionId: connection.id,
        records: earlier.length,
        note: {
          attempt,
          text: `nothing new to apply: an earlier attempt applied these changes${pulled.acknowledgement !== null ? "; this one acknowledged them" : ""}`,
        },
      },
      deps.now(),
      deleteRelayed(env.DB, relayed),
      run.sync,
    );
    return "done";
  }
  await finish(
    env,
    key,
    unmapped.length > 0 && !applied
      ? {
          status: "unmapped",
          outcome,
          tenantId: connection.tenantId,
          connectionId: connection.id,
          unmappedExternalId: unmapped[0],
        }
      : applied || message.kind === "pull"
        ? {
            status: "done",
            outcome,
            tenantId: connection.tenantId,
            connectionId: connection.id,
            records: results.length,
          }
        : {
            status: "ignored",
            outcome: results.length ? `stale revision: ${outcome}` : outcome,
            tenantId: connection.tenantId,
            connectionId: connection.id,
          },
    deps.now(),
    deleteRelayed(env.DB, relayed),
    run.sync,
  );
  for (const r of results) {
    log(r.outcome === "conflict" ? "error" : "info", "inbound.imported", {
      key,
      booking: r.channelBookingId,
      outcome: r.outcome,
    });
  }
  return applied ? "done" : unmapped.length > 0 ? "unmapped" : "ignored";
}

/** The booking changes this event applied, in any attempt (booking_changes). */
async function changesMadeBy(
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

/** An OTA booking for a room that is not mapped yet: kept for the record, holding no nights. */
async function storeUnmappedBooking(
  db: D1Database,
  c: ConnectionRow,
  b: ChannelBooking,
  now: number,
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO bookings (id, tenant_id, property_id, room_type_id, connection_id, external_room_id, source,
         channel_booking_id, status, check_in, check_out, guest_name, guest_count, amount_minor, currency,
         version, channel_revision, created_at, updated_at)
       VALUES (?, ?, ?, NULL, ?, ?, ?, ?, 'unmapped', ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
       ON CONFLICT(source, channel_booking_id) DO UPDATE SET check_in = excluded.check_in,
         check_out = excluded.check_out, external_room_id = excluded.external_room_id,
         channel_revision = excluded.channel_revision, version = version + 1, updated_at = excluded.updated_at
       WHERE bookings.status = 'unmapped' AND bookings.tenant_id = excluded.tenant_id
         AND excluded.channel_revision >= bookings.channel_revision`,
    )
    .bind(
      newId("bk"),
      c.tenantId,
      c.propertyId,
      c.id,
      b.externalRoomId,
      c.platform,
      b.channelBookingId,
      b.checkIn,
      b.checkOut,
      b.guestName ?? null,
      b.guestCount ?? null,
      b.amountMinor ?? null,
      b.currency ?? null,
      b.revision,
      now,
      now,
    )
    .run();
}

/**
 * One sync log per event: created in `triggered` the first time the event resolves to a
 * connection, then → running; a redelivery after `retrying` takes the same log retrying → running.
 * A delivery taking over from one that died mid-attempt finds it `running` already and goes on.
 */
async function startSyncLog(
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

async function finish(
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

/** A gate answer back into a value, or the classified PlatformError it carried. */
/** A platform call the ChannelGate did not let leave yet (rate limit, open circuit). */
export class GateHeldError extends PlatformError {
  constructor(
    platform: Platform,
    message: string,
    readonly heldUntil: number,
    retryAfterSeconds?: number,
  ) {
    super(platform, "rate_limited", message, undefined, retryAfterSeconds);
    this.name = "GateHeldError";
  }
}

function unwrapGate<T>(platform: Platform, result: GateResult<T>): T {
  if (result.ok) return result.value;
  const e = result.error;
  // The gate's messages already name the platform.
  const message = e.message.replace(`${platform}: `, "");
  if (e.heldUntil !== undefined) {
    throw new GateHeldError(platform, message, e.heldUntil, e.retryAfterSeconds);
  }
  throw new PlatformError(platform, e.kind, message, e.status, e.retryAfterSeconds);
}
