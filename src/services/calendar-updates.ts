import {
  blockedWritesAsConflicts,
  CalendarConflictError,
  planCalendarUpdate,
  type CalendarPlan,
  type CalendarRoomType,
  type NightUpdate,
} from "../domain/calendar-updates";
import { errorMessage, log } from "../lib/log";
import { deleteRelayed, relayOutboxFor, relayOutboxForRoomType } from "../queue/outbox";
import { calendarStatements, storedNights } from "../store/calendar";
import { isCapacityViolation } from "../store/errors";

/**
 * A PMS's calendar update of one room type: read the nights, plan (domain/calendar-updates.ts),
 * write the changed nights and their outbox rows in one batch, then fan out at once.
 */

export interface CalendarUpdateResult {
  causeKey: string;
  plan: CalendarPlan;
}

/**
 * Read, plan and apply an update in one batch. Throws CalendarConflictError, having written
 * nothing, when a night would be over capacity: found by the check before writing, or by the
 * ledger's CHECK when a booking slipped in between (the batch then rolls back as a whole).
 */
export async function applyCalendarUpdate(
  db: D1Database,
  roomType: CalendarRoomType,
  updates: readonly NightUpdate[],
  now: number,
): Promise<CalendarUpdateResult> {
  const causeKey = `calendar:${crypto.randomUUID()}`;
  const dates = updates.map((u) => u.date);
  const stored = await storedNights(db, roomType.id, dates);
  const plan = planCalendarUpdate(roomType, stored, updates);
  if (plan.conflicts.length > 0) throw new CalendarConflictError(plan.conflicts);
  const statements = calendarStatements(db, roomType, plan, causeKey, now);
  if (statements.length === 0) return { causeKey, plan };
  try {
    await db.batch(statements);
  } catch (err) {
    if (!isCapacityViolation(err)) throw err;
    // Re-read to name the nights that filled up since the check.
    const current = await storedNights(db, roomType.id, dates);
    const replanned = planCalendarUpdate(roomType, current, updates).conflicts;
    throw new CalendarConflictError(
      replanned.length > 0 ? replanned : blockedWritesAsConflicts(roomType, stored, updates, plan),
    );
  }
  return { causeKey, plan };
}

/** Rows an earlier request of this room type left behind go out now, not with the cron. */
export async function relayLeftovers(env: Env, tenantId: string, roomTypeId: string) {
  try {
    await relayOutboxForRoomType(env, tenantId, roomTypeId);
  } catch (err) {
    log("warn", "calendar.relay_failed", { roomTypeId, error: errorMessage(err) });
  }
}

/** Fan out right after commit, like the inbound consumer; the cron relay covers a failure here. */
export async function relayNow(env: Env, causeKey: string) {
  try {
    const relayed = await relayOutboxFor(env, causeKey);
    if (relayed.length > 0) await env.DB.batch(deleteRelayed(env.DB, relayed));
  } catch (err) {
    log("warn", "calendar.relay_failed", { causeKey, error: errorMessage(err) });
  }
}
