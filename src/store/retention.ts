import {
  and,
  count,
  eq,
  inArray,
  isNotNull,
  isNull,
  lt,
  notExists,
  notInArray,
  or,
  sql,
} from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { orm, type Db } from "./db";
import {
  channelEvents as e,
  deadLetters as d,
  syncLogs as s,
  webhookLog as w,
} from "./schema/events.schema";

/**
 * The rows retention deletes, per table, as of a cutoff (epoch ms): settled and older than it.
 *
 * - sync_logs: finished (success; failed/deadlettered unless their event still has an unresolved
 *   dead letter an operator may act on), triggered and finished before the cutoff;
 * - dead_letters: resolved before the cutoff (unresolved ones are kept, however old);
 * - channel_events: done or ignored, received and processed before the cutoff;
 * - webhook_log: processed or failed, received before the cutoff, unless its event is still open
 *   (an unmapped event is replayed from its webhook_log payload once mapped).
 */

export const RETENTION_TABLES = [
  "sync_logs",
  "dead_letters",
  "channel_events",
  "webhook_log",
] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];

const SETTLED = ["done", "ignored"] as const;

const TARGETS: Record<
  RetentionTable,
  { table: SQLiteTable; old: (cutoff: number, q: Db) => ReturnType<typeof and> }
> = {
  sync_logs: {
    table: s,
    old: (cutoff, q) =>
      and(
        inArray(s.status, ["success", "failed", "deadlettered"]),
        lt(s.triggeredAt, cutoff),
        lt(s.finishedAt, cutoff),
        or(
          eq(s.status, "success"),
          isNull(s.eventId),
          notExists(
            q
              .select({ one: sql`1` })
              .from(d)
              .where(and(eq(d.idempotencyKey, s.eventId), isNull(d.resolvedAt))),
          ),
        ),
      ),
  },
  dead_letters: {
    table: d,
    old: (cutoff) => and(isNotNull(d.resolvedAt), lt(d.resolvedAt, cutoff)),
  },
  channel_events: {
    table: e,
    old: (cutoff) =>
      and(
        inArray(e.status, [...SETTLED]),
        lt(e.receivedAt, cutoff),
        lt(sql`coalesce(${e.processedAt}, ${e.updatedAt})`, cutoff),
      ),
  },
  webhook_log: {
    table: w,
    old: (cutoff, q) =>
      and(
        inArray(w.status, ["processed", "failed"]),
        lt(w.receivedAt, cutoff),
        notExists(
          q
            .select({ one: sql`1` })
            .from(e)
            .where(and(eq(e.idempotencyKey, w.id), notInArray(e.status, [...SETTLED]))),
        ),
      ),
  },
};

/** Delete up to `chunk` of the table's old rows (by rowid); how many went. */
export async function deleteOldChunk(
  db: D1Database,
  table: RetentionTable,
  cutoff: number,
  chunk: number,
): Promise<number> {
  const t = TARGETS[table];
  const q = orm(db);
  const rowids = q
    .select({ rowid: sql`rowid` })
    .from(t.table)
    .where(t.old(cutoff, q))
    .limit(chunk);
  const result = await q
    .delete(t.table)
    .where(inArray(sql`rowid`, rowids))
    .run();
  return result.meta.changes;
}

/** How many old rows the table still holds, counted up to `cap`. */
export async function oldRowCount(
  db: D1Database,
  table: RetentionTable,
  cutoff: number,
  cap: number,
): Promise<number> {
  const t = TARGETS[table];
  const q = orm(db);
  const old = q
    .select({ one: sql`1` })
    .from(t.table)
    .where(t.old(cutoff, q))
    .limit(cap)
    .as("old");
  const row = await q.select({ n: count() }).from(old).get();
  return row?.n ?? 0;
}
