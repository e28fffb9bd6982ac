import { PLATFORM_IDS as PLATFORMS } from "../platforms/ids";
import { errorMessage, log } from "../lib/log";
import { SYNC_STATUSES, type SyncState } from "./sync-log-state";

/**
 * Figures for the seeds' success criteria (seed 000): sync success rate > 95 %, dead letters
 * < 1 % of syncs, webhook processing p99 < 2 s. Computed from D1 for one tenant and one window,
 * and (where the optional METRICS binding exists) written to Workers Analytics Engine per sync.
 */

export const TARGETS = {
  successRateMin: 0.95,
  deadLetterShareMax: 0.01,
  webhookP99MsMax: 2000,
} as const;

/** The optional Analytics Engine binding; declared in wrangler.toml only when enabled. */
export interface MetricsBindings {
  METRICS?: AnalyticsEngineDataset;
}

export interface SyncPoint {
  tenantId: string;
  platform: string;
  direction: "inbound" | "outbound";
  status: SyncState;
  durationMs: number;
  retryCount: number;
}

/**
 * One data point per finished sync: index tenant; blobs platform, status, direction; doubles
 * duration (ms), retry count. Never throws: metrics must not fail the work they describe.
 */
export function writeSyncPoint(env: object, p: SyncPoint): void {
  const dataset = (env as MetricsBindings).METRICS;
  if (!dataset) return;
  try {
    dataset.writeDataPoint({
      indexes: [p.tenantId],
      blobs: [p.platform, p.status, p.direction],
      doubles: [Math.max(0, p.durationMs), p.retryCount],
    });
  } catch (err) {
    log("warn", "metrics.write_failed", { error: errorMessage(err) });
  }
}

export interface LatencyFigures {
  platform: (typeof PLATFORMS)[number];
  count: number;
  p50_ms: number;
  p99_ms: number;
}

export interface SyncMetrics {
  window: { from: number; to: number };
  syncs: {
    total: number;
    finished: number;
    by_status: Record<SyncState, number>;
    success_rate: number | null;
  };
  dead_letters: { count: number; share_of_syncs: number | null };
  webhook_latency: LatencyFigures[];
  targets: {
    success_rate_min: number;
    dead_letter_share_max: number;
    webhook_p99_ms_max: number;
  };
}

/** Nearest-rank percentile: the value at rank ceil(p × n), as a 0-based OFFSET. */
export function percentileOffset(p: number, n: number): number {
  return Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1));
}

const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 10_000) / 10_000);

/**
 * Sync figures of one tenant over [from, to) (epoch ms): sync logs by triggered_at, dead letters
 * by created_at, webhook latency (processed_at - received_at of processed webhooks) by received_at.
 * Percentiles are exact, computed in SQL (ORDER BY + OFFSET), all in one D1 batch per step.
 */
export async function syncMetrics(
  db: D1Database,
  tenantId: string,
  from: number,
  to: number,
): Promise<SyncMetrics> {
  const [statuses, deadLetters, latencyCounts] = await db.batch([
    db
      .prepare(
        `SELECT status, count(*) AS n FROM sync_logs
         WHERE tenant_id = ? AND triggered_at >= ? AND triggered_at < ? GROUP BY status`,
      )
      .bind(tenantId, from, to),
    db
      .prepare(
        `SELECT count(*) AS n FROM dead_letters WHERE tenant_id = ? AND created_at >= ? AND created_at < ?`,
      )
      .bind(tenantId, from, to),
    db
      .prepare(
        `SELECT platform, count(*) AS n FROM webhook_log
         WHERE tenant_id = ? AND status = 'processed' AND processed_at IS NOT NULL
           AND received_at >= ? AND received_at < ?
         GROUP BY platform ORDER BY platform`,
      )
      .bind(tenantId, from, to),
  ]);
  const byStatus = Object.fromEntries(SYNC_STATUSES.map((s) => [s, 0])) as Record<
    SyncState,
    number
  >;
  for (const r of (statuses?.results ?? []) as Array<{ status: string; n: number }>) {
    if (r.status in byStatus) byStatus[r.status as SyncState] = r.n;
  }
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const finished = byStatus.success + byStatus.failed + byStatus.deadlettered;
  const deadLetterCount = ((deadLetters?.results[0] ?? { n: 0 }) as { n: number }).n;

  const counts = ((latencyCounts?.results ?? []) as Array<{ platform: string; n: number }>).filter(
    (r): r is { platform: LatencyFigures["platform"]; n: number } =>
      (PLATFORMS as readonly string[]).includes(r.platform) && r.n > 0,
  );
  const nth = `SELECT processed_at - received_at FROM webhook_log
    WHERE tenant_id = ? AND platform = ? AND status = 'processed' AND processed_at IS NOT NULL
      AND received_at >= ? AND received_at < ?
    ORDER BY processed_at - received_at LIMIT 1 OFFSET ?`;
  const percentiles = counts.length
    ? await db.batch<{ p50: number; p99: number }>(
        counts.map((c) =>
          db
            .prepare(`SELECT (${nth}) AS p50, (${nth}) AS p99`)
            .bind(
              tenantId,
              c.platform,
              from,
              to,
              percentileOffset(0.5, c.n),
              tenantId,
              c.platform,
              from,
              to,
              percentileOffset(0.99, c.n),
            ),
        ),
      )
    : [];
  const latency = counts.map((c, i) => {
    const row = percentiles[i]?.results[0];
    return { platform: c.platform, count: c.n, p50_ms: row?.p50 ?? 0, p99_ms: row?.p99 ?? 0 };
  });

  return {
    window: { from, to },
    syncs: {
      total,
      finished,
      by_status: byStatus,
      success_rate: ratio(byStatus.success, finished),
    },
    dead_letters: { count: deadLetterCount, share_of_syncs: ratio(deadLetterCount, total) },
    webhook_latency: latency,
    targets: {
      success_rate_min: TARGETS.successRateMin,
      dead_letter_share_max: TARGETS.deadLetterShareMax,
      webhook_p99_ms_max: TARGETS.webhookP99MsMax,
    },
  };
}
