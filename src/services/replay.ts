import { ApiError } from "../http/errors";
import { log } from "../lib/log";
import type { InboundMessage } from "../queue/messages";
import { inboundMessageForEvent, sendInbound } from "../queue/republish";
import { resolveDeadLettersOf } from "../store/dead-letters";
import { RETRYABLE, resetEvent, restoreEvents, type EventRow } from "../store/events";
import type { EventStatus } from "../store/schema/events.schema";
import { eventOr404, queueUnavailable } from "./operator";

/**
 * Retry and replay of one inbound event, which the events, dead-letter and sync-log routers share.
 * Both put the event back to `received` (attempts 0, attempt_log kept) and send its inbound message
 * again, rebuilt from webhook_log (a webhook) or from the event (a pull). The consumer claims the
 * same row by its idempotency key and re-fetches the booking from the platform; imports are
 * revision-ordered, so replaying an applied event changes nothing and it stays `done` with what it
 * applied (its booking_changes), a note in its attempt log saying so.
 */

export function invalidState(
  id: string,
  status: EventStatus,
  action: string,
  allowed: string,
  hint = "",
) {
  return new ApiError(
    409,
    "invalid_state",
    `event ${id} is ${status}: only ${allowed} events can be ${action}${hint}`,
    [{ path: "status", message: `is ${status}` }],
  );
}

/** A consumer holds the event right now (its lease has not run out). */
const isBeingProcessed = (r: Pick<EventRow, "status" | "leaseUntil">, now: number) =>
  r.status === "processing" && (r.leaseUntil ?? 0) >= now;

/** 409 unless `mode` may take the event from where it is now. */
function assertRepublishable(before: EventRow, mode: "retry" | "replay", now: number): void {
  const id = before.id;
  if (mode === "retry" && !(RETRYABLE as readonly EventStatus[]).includes(before.status)) {
    throw invalidState(
      id,
      before.status,
      "retried",
      "failed, retrying or unmapped",
      before.status === "done" || before.status === "ignored"
        ? `; replay it (POST /api/v1/events/${id}/replay) to run it again`
        : "",
    );
  }
  if (mode === "replay" && isBeingProcessed(before, now)) {
    throw new ApiError(
      409,
      "invalid_state",
      `event ${id} is processing: a consumer holds it until ${new Date(before.leaseUntil ?? now).toISOString()}; try again after it finishes`,
      [{ path: "status", message: "is processing" }],
    );
  }
  if (before.direction !== "inbound") {
    throw new ApiError(
      409,
      "not_replayable",
      `event ${id} is outbound: only inbound events are sent again`,
    );
  }
}

/**
 * Retry (failed/retrying/unmapped only) or replay (any state but a live `processing`) one of the
 * tenant's inbound events: reset it to `received` with attempts 0 (a compare-and-swap on its
 * state), send its message, and resolve its dead letters. If the queue refuses the message the
 * event is put back as it was. `message` overrides the rebuilt one (a dead letter's own body).
 */
export async function republishEvent(
  env: Env,
  tenantId: string,
  id: string,
  mode: "retry" | "replay",
  opts: { message?: InboundMessage; note?: string } = {},
): Promise<EventRow> {
  const db = env.DB;
  const before = await eventOr404(db, tenantId, id);
  const now = Date.now();
  assertRepublishable(before, mode, now);
  const message = opts.message ?? (await inboundMessageForEvent(db, before));
  if (!message) {
    throw new ApiError(
      409,
      "not_replayable",
      `event ${id} cannot be rebuilt: its webhook body is no longer kept (retention)`,
    );
  }
  const updated = await resetEvent(db, tenantId, id, mode, now);
  if (!updated) {
    const current = await eventOr404(db, tenantId, id);
    throw new ApiError(
      409,
      "invalid_state",
      `event ${id} changed to ${current.status} meanwhile; look at it again before retrying`,
      [{ path: "status", message: `is ${current.status}` }],
    );
  }
  try {
    await sendInbound(env.INBOUND_QUEUE, [message]);
  } catch (err) {
    await restoreEvents(db, [before], now);
    throw queueUnavailable(err, `event ${id}`);
  }
  const resolution = mode === "retry" ? "retried" : "replayed";
  const note = opts.note ?? `event ${resolution} by an operator`;
  await resolveDeadLettersOf(db, tenantId, [before.idempotencyKey], resolution, note, now);
  log("info", `operator.event_${mode}`, { tenantId, eventId: id, from: before.status });
  return updated;
}

/** Replay any historical inbound event of the tenant (see republishEvent). */
export const replayEvent = (env: Env, tenantId: string, id: string) =>
  republishEvent(env, tenantId, id, "replay");
