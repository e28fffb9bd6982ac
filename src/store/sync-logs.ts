import { and, eq, getTableColumns, gte, lt } from "drizzle-orm";
import type { SyncStatus } from "../domain/vocabulary";
import { orm } from "./db";
import { listPage, type Page, type PageRequest } from "./page";
import { syncLogs as s } from "./schema/events.schema";

/**
 * sync_logs as the API reads them: one entry of the tenant, and the tenant's list. The writes (the
 * compare-and-swap transitions) are store/sync-log-transitions.ts.
 */

const { tenantId: _tenant, ...SYNC_LOG_COLUMNS } = getTableColumns(s);
/** A sync_logs row without its tenant (every read is already scoped to it). */
export type SyncLogRow = Omit<typeof s.$inferSelect, "tenantId">;

/** The tenant's sync log entry, or undefined (the caller 404s). */
export function ownSyncLog(
  db: D1Database,
  tenantId: string,
  id: string,
): Promise<SyncLogRow | undefined> {
  return orm(db)
    .select(SYNC_LOG_COLUMNS)
    .from(s)
    .where(and(eq(s.id, id), eq(s.tenantId, tenantId)))
    .get();
}

export interface SyncLogFilters {
  connectionId?: string | undefined;
  status?: SyncStatus | undefined;
  direction?: "inbound" | "outbound" | undefined;
  /** triggered_at bounds, epoch ms: from inclusive, to exclusive */
  from?: number | undefined;
  to?: number | undefined;
}

/** A page of the tenant's sync log, newest first by triggered_at. */
export function listSyncLogs(
  db: D1Database,
  tenantId: string,
  f: SyncLogFilters,
  req: PageRequest,
): Promise<Page<SyncLogRow>> {
  const key = {
    ts: s.triggeredAt,
    id: s.id,
    of: (r: SyncLogRow) => ({ ts: r.triggeredAt, id: r.id }),
  };
  return listPage(req, key, (w) =>
    orm(db)
      .select(SYNC_LOG_COLUMNS)
      .from(s)
      .where(
        and(
          eq(s.tenantId, tenantId),
          f.connectionId ? eq(s.connectionId, f.connectionId) : undefined,
          f.status ? eq(s.status, f.status) : undefined,
          f.direction ? eq(s.direction, f.direction) : undefined,
          f.from !== undefined ? gte(s.triggeredAt, f.from) : undefined,
          f.to !== undefined ? lt(s.triggeredAt, f.to) : undefined,
          w.after,
        ),
      )
      .orderBy(...w.orderBy)
      .limit(w.limit),
  );
}
