import { and, eq, sql, type Column, type SQL } from "drizzle-orm";
import { orm } from "./db";
import { channelConnections, connectionPulls, type Platform } from "./schema/channels.schema";

/**
 * connection_pulls: one row per pulled connection, updated in place (see its schema). The cron
 * takes due connections with one compare-and-swap (`next_pull_at` moves to the lease's end), so
 * overlapping cron runs never enqueue a connection twice and at most one pull is ever waiting per
 * connection; the consumer sets when the next one is due.
 */

/** A taken pull not reported back by then (a lost message) is due again. */
export const PULL_LEASE_MS = 5 * 60_000;

const ELIGIBLE = `SELECT id FROM channel_connections
  WHERE platform IN (SELECT value FROM json_each(?)) AND status = 'active' AND sync_bookings = 1
    AND sync_direction != 'outbound_only' AND deleted_at IS NULL`;

/** `column IN` a JSON array bound as one parameter (D1 binds at most 100 per statement). */
function inJson(column: Column, values: readonly string[]): SQL {
  return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

/** Connections due for a pull, each leased until `now + leaseMs` (created on first sight). */
export async function takeDuePulls(
  db: D1Database,
  platforms: readonly Platform[],
  now: number,
  leaseMs = PULL_LEASE_MS,
): Promise<Array<{ connectionId: string; tenantId: string; platform: Platform }>> {
  const list = JSON.stringify(platforms);
  // Raw: the lease is a compare-and-swap (`next_pull_at <= now` moves to the lease's end) whose
  // RETURNING rows are the connections taken, after an insert-select of the eligible ones.
  const [, taken] = await db.batch<{ connectionId: string; tenantId: string }>([
    db
      .prepare(
        `INSERT INTO connection_pulls (connection_id, tenant_id, next_pull_at, updated_at)
         SELECT id, tenant_id, 0, ? FROM channel_connections WHERE id IN (${ELIGIBLE})
         ON CONFLICT(connection_id) DO NOTHING`,
      )
      .bind(now, list),
    db
      .prepare(
        `UPDATE connection_pulls SET next_pull_at = ?, updated_at = ?
         WHERE next_pull_at <= ? AND connection_id IN (${ELIGIBLE})
         RETURNING connection_id AS connectionId, tenant_id AS tenantId`,
      )
      .bind(now + leaseMs, now, now, list),
  ]);
  const ids = (taken?.results ?? []).map((r) => r.connectionId);
  if (ids.length === 0) return [];
  const platformOf = await platformsOf(db, ids);
  return (taken?.results ?? []).map((r) => ({
    ...r,
    platform: platformOf.get(r.connectionId) ?? platforms[0]!,
  }));
}

async function platformsOf(db: D1Database, ids: string[]): Promise<Map<string, Platform>> {
  const c = channelConnections;
  const rows = await orm(db)
    .select({ id: c.id, platform: c.platform })
    .from(c)
    .where(inJson(c.id, ids));
  return new Map(rows.map((r) => [r.id, r.platform]));
}

export interface PullReport {
  connectionId: string;
  tenantId: string;
  at: number;
  result: string;
  durationMs: number;
  /** The pull reached the platform and read its answer (whether or not anything changed). */
  ok: boolean;
  /** It imported something (an event and a sync log were written too). */
  changed: boolean;
  /** When the next pull is due: 0 for the next cron tick. */
  nextPullAt: number;
}

/** What the pull did; returns the consecutive failures now counted. */
export async function reportPull(db: D1Database, r: PullReport): Promise<number> {
  const p = connectionPulls;
  const last = {
    lastPullAt: r.at,
    lastResult: r.result.slice(0, 500),
    lastDurationMs: r.durationMs,
    nextPullAt: r.nextPullAt,
    updatedAt: r.at,
  };
  // One upsert: the failures are counted in SQL on the stored row and returned.
  const row = await orm(db)
    .insert(p)
    .values({
      connectionId: r.connectionId,
      tenantId: r.tenantId,
      ...last,
      lastChangeAt: r.changed ? r.at : null,
      consecutiveFailures: r.ok ? 0 : 1,
    })
    .onConflictDoUpdate({
      target: p.connectionId,
      set: {
        ...last,
        lastChangeAt: r.changed ? r.at : sql`${p.lastChangeAt}`,
        consecutiveFailures: r.ok ? 0 : sql`${p.consecutiveFailures} + 1`,
      },
    })
    .returning({ failures: p.consecutiveFailures })
    .get();
  return row?.failures ?? 0;
}

/** A failing connection backs off: its next pull is not due before `nextPullAt`. */
export async function deferNextPull(
  db: D1Database,
  connectionId: string,
  nextPullAt: number,
): Promise<void> {
  await orm(db)
    .update(connectionPulls)
    .set({ nextPullAt })
    .where(eq(connectionPulls.connectionId, connectionId));
}

export interface PullState {
  last_pull_at: number | null;
  last_result: string | null;
  last_duration_ms: number | null;
  last_change_at: number | null;
  consecutive_failures: number;
  next_pull_at: number;
}

/** The pull rows of these connections (the channel-status route). */
export async function pullStates(
  db: D1Database,
  tenantId: string,
  connectionIds: readonly string[],
): Promise<Map<string, PullState>> {
  const p = connectionPulls;
  const rows = await orm(db)
    .select({
      connection_id: p.connectionId,
      last_pull_at: p.lastPullAt,
      last_result: p.lastResult,
      last_duration_ms: p.lastDurationMs,
      last_change_at: p.lastChangeAt,
      consecutive_failures: p.consecutiveFailures,
      next_pull_at: p.nextPullAt,
    })
    .from(p)
    .where(and(eq(p.tenantId, tenantId), inJson(p.connectionId, connectionIds)));
  return new Map(rows.map(({ connection_id, ...rest }) => [connection_id, rest]));
}
