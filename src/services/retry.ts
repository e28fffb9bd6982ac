import { ApiError } from "../http/errors";
import { log } from "../lib/log";
import { idempotencyKeyOf, inboundMessage, outboundMessage } from "../queue/messages";
import { inboundMessagesForEvents, sendInbound } from "../queue/republish";
import {
  resolveDeadLetter,
  resolveDeadLettersOf,
  unresolveDeadLetter,
  type DeadLetterRow,
} from "../store/dead-letters";
import {
  countAndPickEvents,
  eventIdByKey,
  resetEvents,
  restoreEvents,
  type EventFilters,
  type EventRow,
} from "../store/events";
import { alreadyResolved, deadLetterOr404, queueUnavailable } from "./operator";
import { republishEvent } from "./replay";

/**
 * Retrying what failed: one event (replay.ts's republishEvent in retry mode), the events matching a
 * filter, or a dead letter's original message. Each resets before it sends and puts back what it
 * reset when the queue refuses, so a 503 leaves nothing changed.
 */

/** Retry one of the tenant's failed, retrying or unmapped inbound events. */
export const retryEvent = (env: Env, tenantId: string, id: string) =>
  republishEvent(env, tenantId, id, "retry");

export interface BatchRetry {
  matched: number;
  retried: EventRow[];
  skipped: Array<{ id: string; reason: string }>;
  more: boolean;
}

/**
 * Take the oldest `limit` events matching the filters, reset each retryable one to received with
 * attempts 0, send it again and resolve its dead letters. Retried events no longer match, so a
 * caller told `more` takes the next ones by calling again.
 */
export async function retryEvents(
  env: Env,
  tenantId: string,
  filters: EventFilters,
  limit: number,
): Promise<BatchRetry> {
  const db = env.DB;
  const { matched, picked } = await countAndPickEvents(db, tenantId, filters, limit);
  const candidates = picked.slice(0, limit);
  const messages = await inboundMessagesForEvents(db, candidates);
  const skipped: BatchRetry["skipped"] = [];
  const sendable = candidates.filter((e) => {
    if (messages.has(e.id)) return true;
    skipped.push({
      id: e.id,
      reason:
        e.direction !== "inbound"
          ? "outbound events are not sent again"
          : "its webhook body is no longer kept (retention)",
    });
    return false;
  });
  const now = Date.now();
  const reset = await resetEvents(
    db,
    tenantId,
    sendable.map((e) => e.id),
    now,
  );
  const resetIds = new Set(reset.map((e) => e.id));
  for (const e of sendable) {
    if (!resetIds.has(e.id)) skipped.push({ id: e.id, reason: "its state changed meanwhile" });
  }
  try {
    await sendInbound(
      env.INBOUND_QUEUE,
      reset.flatMap((e) => messages.get(e.id) ?? []),
    );
  } catch (err) {
    // Put back what this call reset (a message that did go out finds its event claimable).
    const byId = new Map(candidates.map((e) => [e.id, e]));
    await restoreEvents(
      db,
      reset.map((e) => byId.get(e.id) ?? { ...e, status: "failed", attempts: 0, updatedAt: now }),
      now,
    );
    throw queueUnavailable(err, `${reset.length} events`);
  }
  const keys = reset.map((e) => e.idempotencyKey);
  await resolveDeadLettersOf(db, tenantId, keys, "retried", "batch retry by an operator", now);
  log("info", "operator.events_batch_retry", {
    tenantId,
    matched,
    retried: reset.length,
    skipped: skipped.length,
  });
  return { matched, retried: reset, skipped, more: picked.length > limit };
}

const notRetryable = (id: string, why: string) =>
  new ApiError(
    409,
    "not_retryable",
    `dead letter ${id} cannot be retried: ${why}; ignore it instead`,
  );

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const NOTE = "retried by an operator";

/**
 * An inbound dead letter with a recorded event is retried as its event (the event's state rules,
 * its reset, all its dead letters resolved): true when it was. Otherwise false, and the caller
 * sends the message back as it was; a message of another shape or tenant is a 409.
 */
async function retriedAsEvent(env: Env, tenantId: string, dl: DeadLetterRow): Promise<boolean> {
  const body = parseBody(dl.body);
  if (dl.queue === "outbound") {
    const parsed = outboundMessage.safeParse(body);
    if (!parsed.success) throw notRetryable(dl.id, "its message is not a valid outbound message");
    if (parsed.data.tenantId !== tenantId)
      throw notRetryable(dl.id, "its message names another tenant");
    return false;
  }
  if (dl.queue !== "inbound") throw notRetryable(dl.id, `unknown queue ${dl.queue}`);
  const parsed = inboundMessage.safeParse(body);
  if (!parsed.success) throw notRetryable(dl.id, "its message is not a valid inbound message");
  const message = parsed.data;
  if (message.kind === "pull" && message.tenantId !== tenantId) {
    throw notRetryable(dl.id, "its message names another tenant");
  }
  const eventId = await eventIdByKey(env.DB, tenantId, idempotencyKeyOf(message));
  if (!eventId) return false;
  await republishEvent(env, tenantId, eventId, "retry", {
    message,
    note: `${NOTE} (dead letter ${dl.id})`,
  });
  // Resolved with its event's dead letters; this one too if its key column was not set.
  await resolveDeadLetter(env.DB, tenantId, dl.id, "retried", NOTE, Date.now());
  return true;
}

/**
 * Send a dead letter's original message again and resolve it as retried. Inbound with a recorded
 * event: the event's retry. Otherwise the message goes back to its queue as it was; if the queue
 * refuses it, the row stays unresolved.
 */
export async function retryDeadLetter(
  env: Env,
  tenantId: string,
  id: string,
): Promise<DeadLetterRow> {
  const db = env.DB;
  const dl = await deadLetterOr404(db, tenantId, id);
  if (dl.resolvedAt !== null) throw alreadyResolved(dl);
  if (await retriedAsEvent(env, tenantId, dl)) return deadLetterOr404(db, tenantId, id);

  // Claim first, so two operators cannot both send it; undo if the queue refuses.
  const now = Date.now();
  const claimed = await resolveDeadLetter(db, tenantId, id, "retried", NOTE, now);
  if (!claimed) throw alreadyResolved(await deadLetterOr404(db, tenantId, id));
  try {
    const queue = dl.queue === "inbound" ? env.INBOUND_QUEUE : env.OUTBOUND_QUEUE;
    await queue.send(parseBody(dl.body), { contentType: "json" });
  } catch (err) {
    await unresolveDeadLetter(db, id, now);
    throw queueUnavailable(err, `dead letter ${id}`);
  }
  log("info", "operator.dead_letter_retried", { tenantId, deadLetterId: id, queue: dl.queue });
  return claimed;
}
