import { log } from "../lib/log";
import { resolveDeadLetter, resolveDeadLettersOf, type DeadLetterRow } from "../store/dead-letters";
import {
  ignoreEvent as ignoreEventRow,
  ignoreFailedEventByKey,
  type EventRow,
} from "../store/events";
import { alreadyResolved, deadLetterOr404, eventOr404 } from "./operator";
import { invalidState } from "./replay";

/**
 * Ignoring, with an operator's reason: an event (kept, and any redelivery is a duplicate to the
 * consumer) resolves its dead letters as ignored, and a dead letter ignores its failed event.
 */

const outcomeOf = (reason: string) => `ignored by operator: ${reason}`;

/** Ignore the event (received, retrying, failed or unmapped only) and resolve its dead letters. */
export async function ignoreEvent(
  db: D1Database,
  tenantId: string,
  id: string,
  reason: string,
): Promise<EventRow> {
  const now = Date.now();
  const updated = await ignoreEventRow(db, tenantId, id, outcomeOf(reason), now);
  if (!updated) {
    const current = await eventOr404(db, tenantId, id);
    throw invalidState(id, current.status, "ignored", "received, retrying, failed or unmapped");
  }
  await resolveDeadLettersOf(db, tenantId, [updated.idempotencyKey], "ignored", reason, now);
  log("info", "operator.event_ignored", { tenantId, eventId: id });
  return updated;
}

/**
 * Resolve as ignored with the operator's reason. An inbound dead letter's event, left `failed` by
 * the dead-letter consumer, is ignored with it (its outcome says why).
 */
export async function ignoreDeadLetter(
  db: D1Database,
  tenantId: string,
  id: string,
  reason: string,
): Promise<DeadLetterRow> {
  const now = Date.now();
  const row = await resolveDeadLetter(db, tenantId, id, "ignored", reason, now);
  if (!row) throw alreadyResolved(await deadLetterOr404(db, tenantId, id));
  if (row.queue === "inbound" && row.idempotencyKey) {
    await ignoreFailedEventByKey(db, tenantId, row.idempotencyKey, outcomeOf(reason), now);
  }
  log("info", "operator.dead_letter_ignored", { tenantId, deadLetterId: id });
  return row;
}
