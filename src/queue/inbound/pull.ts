import { gateFor, GateHeldError, unwrapGate } from "../../../durable-objects/channel-gate/client";
import { engineConfig } from "../../config";
import { raiseAlert } from "../../store/alerts";
import { inboundBlockReason } from "../../domain/connections";
import { findConnection, type ConnectionRow } from "../../store/connections";
import { writeSyncPoint } from "../../lib/metrics";
import { insertSyncLogStatement, syncTransitionStatement } from "../../store/sync-log-transitions";
import type { D1Meter } from "../../store/d1-meter";
import { newId } from "../../lib/ids";
import { errorMessage, log } from "../../lib/log";
import type { GateResult, PulledThroughGate } from "../../platforms/contract";
import { pulledEventStatement } from "../../store/event-log";
import { deferNextPull, PULL_LEASE_MS, reportPull } from "../../store/pulls";
import type { PullMessage } from "../messages";
import { deleteRelayed, relayOutboxFor } from "../outbox";
import { PULL_EVENT_TYPE } from "../republish";
import { isStorageFailure } from "./errors";
import { importBookings, type ImportRun } from "./imports";

/**
 * A pull of a pull platform's pending reservations (the cron's, a continuation, a replay). Pulls
 * are the engine's own work, not accepted deliveries, and the next one supersedes a missed one:
 * - nothing came back: only the connection's pull row changes (no event, no sync log);
 * - something was imported: an event and a sync log record what, and the platform is told;
 * - the gate held the call or the platform failed: the row says so and when the next pull is
 *   due; the message is acked, never re-sent on its own, so held pulls cannot pile up.
 * Work past the message's D1 budget continues in a follow-up pull of the same connection.
 */

export type PullStatus = "done" | "quiet" | "held" | "failed" | "ignored";

/** Consecutive failed pulls (about one a minute, then backing off) that raise an alert. */
const ALERT_AFTER_FAILURES = 10;
const MAX_BACKOFF_MS = 15 * 60_000;

export async function processPull(
  env: Env,
  message: PullMessage,
  meter: D1Meter,
  budget: number,
  now: () => number,
): Promise<PullStatus> {
  const started = now();
  const connection = await findConnection(env.DB, message.connectionId);
  if (!connection || connection.tenantId !== message.tenantId) return "ignored";
  const report = (result: string, ok: boolean, changed: boolean, nextPullAt: number) =>
    reportPull(env.DB, {
      connectionId: connection.id,
      tenantId: connection.tenantId,
      at: now(),
      result,
      durationMs: now() - started,
      ok,
      changed,
      nextPullAt,
    });
  const blocked = inboundBlockReason(connection);
  if (blocked) {
    await report(`not pulled: ${blocked}`, true, false, 0);
    return "ignored";
  }
  let pulled: PulledThroughGate;
  try {
    pulled = await pullThroughGate(env, connection, message.key);
  } catch (err) {
    if (isStorageFailure(err)) throw err;
    return failed(env, connection, err, report, now());
  }
  if (pulled.bookings.length === 0) {
    await report("nothing to import", true, false, 0);
    return "quiet";
  }
  const run = await importBookings({
    db: env.DB,
    connection,
    platform: message.platform,
    key: message.key,
    bookings: pulled.bookings,
    meter,
    budget,
    now,
  });
  const relayed = await relayOutboxFor(env, message.key);
  const ack = await acknowledge(env, connection, pulled, run);
  if (run.remaining.length > 0) await continueLater(env, message, run, now());
  const changed = run.results.some((r) => r.outcome !== "stale") || run.unmapped.length > 0;
  const summary = describe(run, ack);
  if (changed) {
    await recordEvent(env, message, connection, run, summary, started, now(), relayed);
  }
  // While a follow-up pull is on its way the lease stays taken, so the cron adds none beside it.
  await report(summary, true, changed, run.remaining.length > 0 ? now() + PULL_LEASE_MS : 0);
  return changed ? "done" : "quiet";
}

async function pullThroughGate(
  env: Env,
  connection: ConnectionRow,
  key: string,
): Promise<PulledThroughGate> {
  const result = (await gateFor(env, connection.id).pullBookings({
    tenantId: connection.tenantId,
    connectionId: connection.id,
    hint: {
      eventId: key,
      eventType: PULL_EVENT_TYPE,
      externalPropertyId: connection.externalPropertyId,
    },
  })) as GateResult<PulledThroughGate>;
  return unwrapGate(connection.platform, result);
}

/** The gate held it (ask again when it can call) or the platform failed (back off). */
async function failed(
  env: Env,
  connection: ConnectionRow,
  err: unknown,
  report: (result: string, ok: boolean, changed: boolean, next: number) => Promise<number>,
  at: number,
): Promise<PullStatus> {
  if (err instanceof GateHeldError) {
    await report(`held until ${new Date(err.heldUntil).toISOString()}`, true, false, err.heldUntil);
    return "held";
  }
  const message = errorMessage(err);
  const failures = await report(`failed: ${message}`, false, false, at);
  const backoff = Math.min(MAX_BACKOFF_MS, 60_000 * 2 ** Math.max(0, failures - 1));
  await deferNextPull(env.DB, connection.id, at + backoff);
  log("warn", "pull.failed", { connectionId: connection.id, failures, error: message });
  if (failures === ALERT_AFTER_FAILURES) {
    await raiseAlert(
      env.DB,
      {
        tenantId: connection.tenantId,
        kind: "pull_failing",
        severity: "warning",
        message: `${connection.platform} reservations of connection ${connection.id} could not be pulled ${failures} times in a row: ${message}`,
        details: { connectionId: connection.id },
        dedupeKey: `pull_failing:${connection.id}`,
      },
      at,
    );
  }
  return "failed";
}

/** Tell the platform which bookings are stored; a failure here is no reason to re-import. */
async function acknowledge(
  env: Env,
  connection: ConnectionRow,
  pulled: PulledThroughGate,
  run: ImportRun,
): Promise<string | null> {
  const stored = run.results.map((r) => r.channelBookingId);
  if (pulled.acknowledgement === null || stored.length === 0) return null;
  try {
    unwrapGate(
      connection.platform,
      (await gateFor(env, connection.id).acknowledge({
        tenantId: connection.tenantId,
        connectionId: connection.id,
        acknowledgement: pulled.acknowledgement,
        stored,
      })) as GateResult<null>,
    );
    return null;
  } catch (err) {
    // Not acknowledged: the platform offers them again and the next pull acknowledges them.
    return errorMessage(err);
  }
}

/** More came back than one message may store: the same connection is pulled again at once. */
async function continueLater(
  env: Env,
  message: PullMessage,
  run: ImportRun,
  at: number,
): Promise<void> {
  const next: PullMessage = {
    ...message,
    key: `${message.key.split("+")[0]}+${run.results.length + run.unmapped.length}@${at}`,
    requestedAt: at,
  };
  await env.INBOUND_QUEUE.send(next, { contentType: "json" });
  log("info", "pull.continued", {
    connectionId: message.connectionId,
    remaining: run.remaining.length,
  });
}

function describe(run: ImportRun, ackError: string | null): string {
  const parts = run.results.map((r) => `${r.channelBookingId}: ${r.outcome}`);
  if (run.unmapped.length > 0) parts.push(`unmapped rooms: ${run.unmapped.join(", ")}`);
  if (run.remaining.length > 0) parts.push(`${run.remaining.length} more in a follow-up pull`);
  if (ackError) parts.push(`not acknowledged (the next pull does): ${ackError}`);
  return parts.join("; ") || "nothing to import";
}

/** The pull changed something: its event and finished sync log, in one batch. */
async function recordEvent(
  env: Env,
  message: PullMessage,
  c: ConnectionRow,
  run: ImportRun,
  outcome: string,
  started: number,
  finished: number,
  relayed: string[],
): Promise<void> {
  const db = env.DB;
  const status = run.results.some((r) => r.outcome !== "stale") ? "done" : "unmapped";
  const log = insertSyncLogStatement(
    db,
    {
      tenantId: c.tenantId,
      connectionId: c.id,
      eventId: message.key,
      syncType: "booking_import",
      direction: "inbound",
      maxRetries: engineConfig(env).maxRetriesByPlatform[c.platform],
    },
    started,
  );
  const statements = [
    pulledEventStatement(db, {
      id: newId("evt"),
      connection: c,
      eventType: PULL_EVENT_TYPE,
      key: message.key,
      entityExternalId: status === "unmapped" ? (run.unmapped[0] ?? c.id) : c.id,
      status,
      outcome,
      requestedAt: message.requestedAt,
      finishedAt: finished,
    }),
    log.statement,
    syncTransitionStatement(db, { id: log.id }, ["triggered"], "running", {}, started),
    syncTransitionStatement(
      db,
      { id: log.id },
      ["running"],
      "success",
      { recordsProcessed: run.results.length, details: outcome.slice(0, 2000) },
      finished,
    ),
    ...deleteRelayed(db, relayed),
  ].filter((s): s is D1PreparedStatement => s !== null);
  await db.batch(statements);
  writeSyncPoint(env, {
    tenantId: c.tenantId,
    platform: c.platform,
    direction: "inbound",
    status: "success",
    durationMs: finished - started,
    retryCount: 0,
  });
}
