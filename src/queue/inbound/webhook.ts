import { gateFor, unwrapGate } from "../../../durable-objects/channel-gate/client";
import type { Platform } from "../../store/schema/channels.schema";
import { raiseAlert } from "../../store/alerts";
import { inboundBlockReason } from "../../domain/connections";
import {
  findConnectionByExternalProperty,
  findRoomMapping,
  type ConnectionRow,
} from "../../store/connections";
import { base64ToBytes } from "../../lib/encoding";
import type { D1Meter } from "../../store/d1-meter";
import { log } from "../../lib/log";
import { adapterFor, isPullPlatform } from "../../platforms/registry";
import type { GateResult, PulledThroughGate, WebhookHint } from "../../platforms/contract";
import type { PullMessage, WebhookMessage } from "../messages";
import { deleteRelayed, relayOutboxFor } from "../outbox";
import { changesMadeBy } from "../../store/bookings";
import { claimEvent, finish, startSyncLog, type Attempt, type Finish } from "./event-log";
import { importBookings, type ImportRun } from "./imports";

/**
 * A verified webhook: a hint of what changed. Recorded once (deduplicated, leased), resolved to
 * its one live owner, then the authoritative booking is fetched through the connection's gate and
 * imported; a pull platform is told what was stored. Every outcome is the event's record: done
 * with what it applied, ignored with the reason, or unmapped (kept for a replay).
 */

export interface WebhookRun {
  message: WebhookMessage;
  key: string;
  attempt: number;
  maxRetries: (platform: Platform) => number;
  meter: D1Meter;
  budget: number;
  now: () => number;
}

type Resolved =
  | { connection: ConnectionRow; knownRoom?: { externalRoomId: string; roomTypeId: string } }
  | { unmapped: string };

function hintOf(message: WebhookMessage): WebhookHint {
  const body: unknown = JSON.parse(new TextDecoder().decode(base64ToBytes(message.bodyB64)));
  return adapterFor(message.platform).parseWebhook(body);
}

/** Its one live owner: the connection of the hotel, or of the listing's confirmed mapping. */
async function resolveConnection(
  db: D1Database,
  platform: Platform,
  hint: WebhookHint,
): Promise<Resolved> {
  if (hint.externalPropertyId) {
    const c = await findConnectionByExternalProperty(db, platform, hint.externalPropertyId);
    return c
      ? { connection: c }
      : { unmapped: `no ${platform} connection for property ${hint.externalPropertyId}` };
  }
  if (hint.externalRoomId) {
    const m = await findRoomMapping(db, platform, hint.externalRoomId);
    return m
      ? {
          connection: m.connection,
          knownRoom: { externalRoomId: hint.externalRoomId, roomTypeId: m.roomTypeId },
        }
      : { unmapped: `no ${platform} mapping for listing ${hint.externalRoomId}` };
  }
  return { unmapped: `${platform} event names neither a property nor a listing` };
}

export async function processWebhook(
  env: Env,
  run: WebhookRun,
  attempt: Attempt,
): Promise<Finish["status"] | "duplicate"> {
  const { message, key } = run;
  if ((await claimEvent(env, message, key, run.now())) === "duplicate") {
    log("info", "inbound.duplicate", { key });
    return "duplicate";
  }
  const platform = message.platform;
  const hint = hintOf(message);
  const resolved = await resolveConnection(env.DB, platform, hint);
  if ("unmapped" in resolved) return keepUnmapped(env, run, resolved.unmapped, hint);
  const { connection, knownRoom } = resolved;
  const blocked = inboundBlockReason(connection);
  if (blocked) {
    const ids = { tenantId: connection.tenantId, connectionId: connection.id };
    await finish(env, key, { status: "ignored", outcome: blocked, ...ids }, run.now());
    return "ignored";
  }
  attempt.sync = await startSyncLog(
    env,
    key,
    connection,
    run.attempt,
    run.maxRetries(platform),
    run.now(),
  );
  // The platform is called from the connection's ChannelGate: its limiter, breaker and tokens.
  const gate = gateFor(env, connection.id);
  const gateInput = { tenantId: connection.tenantId, connectionId: connection.id };
  // RPC wraps the declared type; the value is exactly the gate's GateResult.
  const answer = (await gate.pullBookings({ ...gateInput, hint })) as GateResult<PulledThroughGate>;
  if (!answer.ok && answer.error.heldUntil !== undefined && isPullPlatform(platform)) {
    return supersededByPull(env, run, connection, answer.error.heldUntil, attempt);
  }
  const pulled = unwrapGate(platform, answer);
  const imported = await importBookings({
    db: env.DB,
    connection,
    platform,
    key,
    bookings: pulled.bookings,
    knownRoom,
    meter: run.meter,
    budget: run.budget,
    now: run.now,
  });
  // Fan out only after the booking batch committed; the outbox makes this survive a crash here.
  const relayed = await relayOutboxFor(env, key);
  // Tell a pull platform we have them, only once they are stored (it re-sends until then).
  const stored = imported.results.map((r) => r.channelBookingId);
  if (pulled.acknowledgement !== null && stored.length > 0) {
    const ack = { ...gateInput, acknowledgement: pulled.acknowledgement, stored };
    unwrapGate(platform, (await gate.acknowledge(ack)) as GateResult<null>);
  }
  if (imported.remaining.length > 0) await pullTheRest(env, connection, key, run.now());
  const f = await outcomeOf(env.DB, run, connection, imported, pulled.acknowledgement !== null);
  await finish(env, key, f, run.now(), deleteRelayed(env.DB, relayed), attempt.sync);
  logImported(key, imported);
  return f.status;
}

function logImported(key: string, imported: ImportRun): void {
  for (const r of imported.results) {
    log(r.outcome === "conflict" ? "error" : "info", "inbound.imported", {
      key,
      booking: r.channelBookingId,
      outcome: r.outcome,
    });
  }
}

/**
 * A pull platform's hint while the gate holds its calls: the hint only says "pull", and the
 * connection's own pull (every minute, or as soon as the gate can call: connection_pulls) takes
 * every pending reservation. Holding every hint and waking them all together would spend the
 * recovered rate limit on duplicate pulls instead of pushes, so the hint ends here, saying so.
 */
async function supersededByPull(
  env: Env,
  run: WebhookRun,
  c: ConnectionRow,
  heldUntil: number,
  attempt: Attempt,
): Promise<"ignored"> {
  const when = new Date(heldUntil).toISOString();
  const outcome = `held until ${when}: the connection's next pull imports what is pending`;
  const f: Finish = { status: "ignored", outcome, tenantId: c.tenantId, connectionId: c.id };
  await finish(env, run.key, f, run.now(), [], attempt.sync);
  log("info", "inbound.hint_superseded", { key: run.key, heldUntil: when });
  return "ignored";
}

/** No live owner: kept, not dropped; creating the mapping replays it (replay-unmapped.ts). */
async function keepUnmapped(
  env: Env,
  run: WebhookRun,
  why: string,
  hint: WebhookHint,
): Promise<"unmapped"> {
  const alert = {
    tenantId: null,
    kind: "unmapped_inbound",
    severity: "warning" as const,
    message: why,
    details: { key: run.key, platform: run.message.platform },
    dedupeKey: `unmapped_inbound:${why}`,
  };
  await raiseAlert(env.DB, alert, run.now());
  const f: Finish = {
    status: "unmapped",
    outcome: `unmapped: ${why}`,
    tenantId: null,
    connectionId: null,
    unmappedExternalId: hint.externalRoomId ?? hint.externalPropertyId,
  };
  await finish(env, run.key, f, run.now());
  return "unmapped";
}

/** The platform returned more than this message may store: a pull of the connection goes on. */
async function pullTheRest(env: Env, c: ConnectionRow, key: string, at: number): Promise<void> {
  const pull: PullMessage = {
    v: 1,
    kind: "pull",
    platform: c.platform,
    connectionId: c.id,
    tenantId: c.tenantId,
    key: `${c.platform}:pull:${c.id}:after:${key}`,
    requestedAt: at,
  };
  await env.INBOUND_QUEUE.send(pull, { contentType: "json" });
}

/**
 * What the event did. When nothing is new now, an earlier attempt of this very event may have
 * applied it (its acknowledgement or its bookkeeping failed after the booking batch committed):
 * the event stays what it was, the one that made the change.
 */
async function outcomeOf(
  db: D1Database,
  run: WebhookRun,
  c: ConnectionRow,
  imported: ImportRun,
  acknowledged: boolean,
): Promise<Finish> {
  const ids = { tenantId: c.tenantId, connectionId: c.id };
  const { results, unmapped, remaining } = imported;
  const applied = results.some((r) => r.outcome !== "stale");
  const more = remaining.length > 0 ? `; ${remaining.length} more in a follow-up pull` : "";
  const earlier = applied || results.length === 0 ? [] : await changesMadeBy(db, run.key);
  if (earlier.length > 0) {
    const text = `nothing new to apply: an earlier attempt applied these changes${acknowledged ? "; this one acknowledged them" : ""}`;
    return {
      status: "done",
      outcome: earlier.map((e) => `${e.channelBookingId}: ${e.outcome}`).join("; ") + more,
      ...ids,
      records: earlier.length,
      note: { attempt: run.attempt, text },
    };
  }
  const outcome =
    (results.length === 0
      ? unmapped.length > 0
        ? `unmapped rooms: ${unmapped.join(", ")}`
        : "nothing to import"
      : results.map((r) => `${r.channelBookingId}: ${r.outcome}`).join("; ")) + more;
  if (unmapped.length > 0 && !applied) {
    return { status: "unmapped", outcome, ...ids, unmappedExternalId: unmapped[0] };
  }
  if (applied || remaining.length > 0) {
    return { status: "done", outcome, ...ids, records: results.length };
  }
  const ignored = results.length ? `stale revision: ${outcome}` : outcome;
  return { status: "ignored", outcome: ignored, ...ids };
}
