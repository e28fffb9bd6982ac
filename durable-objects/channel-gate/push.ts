import type { GateSettings } from "../../src/domain/gate-settings";
import type { Priority } from "../../src/domain/rate-limiter";
import { pushIdempotencyKey } from "../../src/lib/idempotency-key";
import { adapterContext, type CallParts } from "./calls";
import type { Connection, ConnectionConfig } from "./connection";
import { GateHeldError } from "./held";
import type { PendingNights } from "./pending";
import type { PlannedPush, PushPlanning } from "./planner";
import type { PushedNights } from "./pushed";
import type { GateSyncLog } from "./sync-log";

export interface PushParts extends CallParts {
  pending: PendingNights;
  pushed: PushedNights;
  syncs: GateSyncLog;
}

/** What a flush's requests did. */
export interface PushOutcome {
  calls: number;
  pushed: number;
  failure: unknown;
  /** The gate held a request (rate limit, circuit): nothing more left after it. */
  deferredUntil: number;
}

interface Target {
  connection: Connection;
  settings: GateSettings;
  config: ConnectionConfig;
}

/** Send the planned requests in order, under one sync log, until one may not leave or fails. */
export async function sendPlanned(
  parts: PushParts,
  connection: Connection,
  settings: GateSettings,
  config: ConnectionConfig | null,
  planning: PushPlanning,
  previousAttempts: number,
): Promise<PushOutcome> {
  const started = parts.clock();
  const out: PushOutcome = { calls: 0, pushed: 0, failure: null, deferredUntil: 0 };
  await parts.syncs.closeInterrupted(started);
  if (planning.planned.length === 0 || !config) return out;
  const syncId = await parts.syncs.open(connection, started, previousAttempts);
  const closeAs = (failure: unknown, note?: string) =>
    syncId
      ? parts.syncs.close(syncId, connection, parts.clock(), {
          nights: out.pushed,
          calls: out.calls,
          failure,
          ...(note ? { note } : {}),
        })
      : Promise.resolve();
  try {
    for (const push of planning.planned) {
      if (!(await sendOne(parts, { connection, settings, config }, push, out))) break;
    }
  } catch (err) {
    // Not a platform answer (D1, a bug): the sync log fails with it; the alarm retries the job.
    await closeAs(err);
    throw err;
  }
  const n = planning.unchanged;
  const current = n > 0 ? `; ${n} night value(s) already on the platform` : "";
  const held = out.deferredUntil
    ? `; the rest held until ${new Date(out.deferredUntil).toISOString()}`
    : "";
  await closeAs(out.failure, `${out.calls} platform call(s)${current}${held}`);
  return out;
}

/** One planned request. False when the rest must wait: held by the gate, or failed. */
async function sendOne(
  parts: PushParts,
  t: Target,
  push: PlannedPush,
  out: PushOutcome,
): Promise<boolean> {
  const { roomTypeId, call, seqs, values } = push;
  const maxSeq = Math.max(0, ...call.dates.map((d) => seqs.get(d) ?? 0));
  // Names what is sent (and which marks): a retry of the same body repeats it, another body
  // never shares it (src/lib/idempotency-key.ts).
  const key = await pushIdempotencyKey(t.connection.id, maxSeq, call.content);
  const priority: Priority = push.urgent ? "outbound" : "bulk";
  try {
    await call.send(adapterContext(parts, { ...t, priority }, t.config, key));
  } catch (err) {
    if (err instanceof GateHeldError) out.deferredUntil = err.heldUntil;
    else {
      out.failure = err;
      for (const night of call.dates) parts.pushed.forget(roomTypeId, night, call.aspect);
    }
    return false;
  }
  out.calls += 1;
  out.pushed += call.dates.length;
  const at = parts.clock();
  for (const night of call.dates) {
    parts.pushed.remember(roomTypeId, night, call.aspect, values.get(night) ?? "", at);
    // Only nights not re-marked while the request was out are done (seq unchanged).
    parts.pending.clear(roomTypeId, night, call.aspect, seqs.get(night) ?? -1);
  }
  return true;
}
