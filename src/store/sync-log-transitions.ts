import {
  FINISHED_SYNC_STATES,
  OPEN_SYNC_STATES,
  legalSources,
  type SyncState,
} from "../domain/sync-log-state";
import { newId } from "../lib/ids";
import { log } from "../lib/log";

/**
 * sync_logs writes: every transition of the machine in domain/sync-log-state.ts is a
 * compare-and-swap on D1, a conditional UPDATE whose WHERE names the states it may leave, checked
 * through meta.changes. The statements stay raw D1 statements because that is the design: callers
 * put them in their own all-or-nothing `db.batch([...])` beside other raw ledger statements and
 * read each one's `meta.changes`, which a Drizzle batch would not mix with.
 */

/** One sync log by id, or the open one(s) of an event; tenantId narrows either further. */
export type SyncLogTarget = ({ id: string } | { eventId: string }) & { tenantId?: string };

export interface TransitionFields {
  error?: string | null;
  details?: string | null;
  recordsProcessed?: number;
  /** Set retry_count to this on → retrying (default: retry_count + 1). */
  retryCount?: number;
}

function targetSql(target: SyncLogTarget): { where: string; binds: unknown[] } {
  const where = "id" in target ? "id = ?" : "event_id = ?";
  const binds: unknown[] = ["id" in target ? target.id : target.eventId];
  if (target.tenantId !== undefined)
    return { where: `${where} AND tenant_id = ?`, binds: [...binds, target.tenantId] };
  return { where, binds };
}

function describe(target: SyncLogTarget): Record<string, string> {
  return "id" in target ? { id: target.id } : { eventId: target.eventId };
}

/** The SET clauses of a move to `to`: the timestamps `to` implies, then the caller's fields. */
function setsFor(
  to: SyncState,
  fields: TransitionFields,
  now: number,
): { sets: string[]; binds: unknown[] } {
  const sets: string[] = ["status = ?"];
  const binds: unknown[] = [to];
  if (to === "running") {
    sets.push("started_at = ?");
    binds.push(now);
  }
  if (FINISHED_SYNC_STATES.includes(to)) {
    sets.push("finished_at = ?", "duration_ms = ? - COALESCE(started_at, triggered_at)");
    binds.push(now, now);
  }
  if (to === "deadlettered") {
    sets.push("deadletter_at = ?");
    binds.push(now);
  }
  if (to === "retrying") {
    if (fields.retryCount === undefined) sets.push("retry_count = retry_count + 1");
    else {
      sets.push("retry_count = ?");
      binds.push(fields.retryCount);
    }
  }
  if (fields.error !== undefined) {
    sets.push("error = ?");
    binds.push(fields.error === null ? null : fields.error.slice(0, 1000));
  }
  if (fields.details !== undefined) {
    sets.push("details = ?");
    binds.push(fields.details === null ? null : fields.details.slice(0, 2000));
  }
  if (fields.recordsProcessed !== undefined) {
    sets.push("records_processed = ?");
    binds.push(fields.recordsProcessed);
  }
  return { sets, binds };
}

/**
 * The conditional UPDATE for a transition, to run alone or inside a D1 batch (check its
 * meta.changes with confirmSyncTransition). Null when no state in `from` may go to `to`.
 * Timestamps follow `to`: started_at on running; finished_at and duration_ms on success, failed
 * and deadlettered; deadletter_at on deadlettered.
 */
export function syncTransitionStatement(
  db: D1Database,
  target: SyncLogTarget,
  from: readonly SyncState[],
  to: SyncState,
  fields: TransitionFields,
  now: number,
): D1PreparedStatement | null {
  const legal = legalSources(from, to);
  if (legal.length === 0) return null;
  const { sets, binds } = setsFor(to, fields, now);
  const t = targetSql(target);
  return db
    .prepare(
      `UPDATE sync_logs SET ${sets.join(", ")}
       WHERE ${t.where} AND status IN (${legal.map(() => "?").join(", ")})`,
    )
    .bind(...binds, ...t.binds, ...legal);
}

/**
 * Check a transition's changed-row count. 0 means refused: the current state is read back and
 * logged as sync_log.illegal_transition (unless it is one of `quietIf`, an expected outcome such as
 * a redelivery finding its own work done). A target with no sync log at all is not a warning.
 */
export async function confirmSyncTransition(
  db: D1Database,
  target: SyncLogTarget,
  from: readonly SyncState[],
  to: SyncState,
  changes: number,
  opts: { quietIf?: readonly SyncState[] } = {},
): Promise<boolean> {
  if (changes > 0) return true;
  const t = targetSql(target);
  const current = await db
    .prepare(
      `SELECT id, status FROM sync_logs WHERE ${t.where} ORDER BY triggered_at DESC, id DESC LIMIT 1`,
    )
    .bind(...t.binds)
    .first<{ id: string; status: SyncState }>();
  if (!current) return false;
  if (opts.quietIf?.includes(current.status)) return false;
  log("warn", "sync_log.illegal_transition", {
    ...describe(target),
    syncLogId: current.id,
    from,
    to,
    current: current.status,
  });
  return false;
}

/**
 * Move a sync log from one of `from` to `to`, as a compare-and-swap. True when applied; false when
 * refused (illegal per the table, or the row was no longer in `from`), logged, and nothing changed.
 */
export async function transitionSyncLog(
  db: D1Database,
  target: SyncLogTarget,
  from: readonly SyncState[],
  to: SyncState,
  fields: TransitionFields,
  now: number,
): Promise<boolean> {
  const statement = syncTransitionStatement(db, target, from, to, fields, now);
  if (!statement) {
    log("warn", "sync_log.illegal_transition", { ...describe(target), from, to, current: null });
    return false;
  }
  const result = await statement.run();
  return confirmSyncTransition(db, target, from, to, result.meta.changes);
}

export interface NewSyncLog {
  id?: string;
  tenantId: string;
  connectionId: string;
  eventId?: string | null;
  syncType: string;
  direction: "inbound" | "outbound";
  maxRetries: number;
  retryCount?: number;
}

/** INSERT a sync log in `triggered` (triggered_at = now). Returns the statement and the row's id. */
export function insertSyncLogStatement(
  db: D1Database,
  s: NewSyncLog,
  now: number,
): { id: string; statement: D1PreparedStatement } {
  const id = s.id ?? newId("syn");
  return {
    id,
    statement: db
      .prepare(
        `INSERT INTO sync_logs (id, tenant_id, connection_id, event_id, sync_type, direction, status,
           retry_count, max_retries, triggered_at)
         VALUES (?, ?, ?, ?, ?, ?, 'triggered', ?, ?, ?)`,
      )
      .bind(
        id,
        s.tenantId,
        s.connectionId,
        s.eventId ?? null,
        s.syncType,
        s.direction,
        s.retryCount ?? 0,
        s.maxRetries,
        now,
      ),
  };
}

/**
 * The event's open sync log, created in `triggered` if it has none (an INSERT guarded by NOT
 * EXISTS, one statement, so never two open logs for one event). A replay after a final state
 * opens a new one.
 */
export function openSyncLogForEventStatement(
  db: D1Database,
  s: NewSyncLog & { eventId: string },
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO sync_logs (id, tenant_id, connection_id, event_id, sync_type, direction, status,
         retry_count, max_retries, triggered_at)
       SELECT ?, ?, ?, ?, ?, ?, 'triggered', ?, ?, ?
       WHERE NOT EXISTS (SELECT 1 FROM sync_logs WHERE event_id = ? AND status IN (${OPEN_SYNC_STATES.map(() => "?").join(", ")}))`,
    )
    .bind(
      s.id ?? newId("syn"),
      s.tenantId,
      s.connectionId,
      s.eventId,
      s.syncType,
      s.direction,
      s.retryCount ?? 0,
      s.maxRetries,
      now,
      s.eventId,
      ...OPEN_SYNC_STATES,
    );
}

/** The event's running sync log (id, started_at), read inside the batch that moved it there. */
export function runningSyncLogOfEventStatement(
  db: D1Database,
  eventId: string,
): D1PreparedStatement {
  return db
    .prepare(
      `SELECT id, status, started_at AS startedAt FROM sync_logs
       WHERE event_id = ? AND status = 'running' ORDER BY triggered_at DESC LIMIT 1`,
    )
    .bind(eventId);
}
