import { and, count, eq, gte, isNotNull, lt, sql } from "drizzle-orm";
import { orm } from "./db";
import { deadLetters, syncLogs, webhookLog as w } from "./schema/events.schema";

/**
 * The D1 reads behind the sync figures (domain/metrics.ts computes them): one batch of counts,
 * then one batch of exact percentiles (ORDER BY + OFFSET), all for one tenant and one window.
 */

export interface MetricCounts {
  statuses: Array<{ status: string; n: number }>;
  deadLetters: number;
  latencyCounts: Array<{ platform: string; n: number }>;
}

/** processed webhooks of the tenant received in [from, to), optionally of one platform */
const processedIn = (tenantId: string, from: number, to: number, platform?: string) =>
  and(
    eq(w.tenantId, tenantId),
    platform === undefined ? undefined : eq(w.platform, platform as typeof w.$inferSelect.platform),
    eq(w.status, "processed"),
    isNotNull(w.processedAt),
    gte(w.receivedAt, from),
    lt(w.receivedAt, to),
  );

/** Sync logs by status (triggered_at), dead letters (created_at), processed webhooks per platform. */
export async function metricCounts(
  db: D1Database,
  tenantId: string,
  from: number,
  to: number,
): Promise<MetricCounts> {
  const q = orm(db);
  const [statuses, dead, latency] = await q.batch([
    q
      .select({ status: syncLogs.status, n: count() })
      .from(syncLogs)
      .where(
        and(
          eq(syncLogs.tenantId, tenantId),
          gte(syncLogs.triggeredAt, from),
          lt(syncLogs.triggeredAt, to),
        ),
      )
      .groupBy(syncLogs.status),
    q
      .select({ n: count() })
      .from(deadLetters)
      .where(
        and(
          eq(deadLetters.tenantId, tenantId),
          gte(deadLetters.createdAt, from),
          lt(deadLetters.createdAt, to),
        ),
      ),
    q
      .select({ platform: w.platform, n: count() })
      .from(w)
      .where(processedIn(tenantId, from, to))
      .groupBy(w.platform)
      .orderBy(w.platform),
  ]);
  return { statuses, deadLetters: dead[0]?.n ?? 0, latencyCounts: latency };
}

/**
 * The latency (processed_at − received_at) at each 0-based offset, per platform, in one batch:
 * `offsets[i]` are platform i's ranks; a missing row reads as 0.
 */
export async function latencyAt(
  db: D1Database,
  tenantId: string,
  from: number,
  to: number,
  ranks: Array<{ platform: string; offsets: number[] }>,
): Promise<number[][]> {
  const q = orm(db);
  const latency = sql<number>`${w.processedAt} - ${w.receivedAt}`;
  const queries = ranks.flatMap((r) =>
    r.offsets.map((offset) =>
      q
        .select({ ms: latency })
        .from(w)
        .where(processedIn(tenantId, from, to, r.platform))
        .orderBy(latency)
        .limit(1)
        .offset(offset),
    ),
  );
  const [first, ...rest] = queries;
  if (!first) return ranks.map(() => []);
  const results = await q.batch([first, ...rest]);
  let i = 0;
  return ranks.map((r) => r.offsets.map(() => results[i++]?.[0]?.ms ?? 0));
}
