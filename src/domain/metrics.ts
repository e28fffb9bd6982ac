import { PLATFORM_IDS as PLATFORMS } from "../platforms/ids";
import { SYNC_STATUSES, type SyncStatus } from "./vocabulary";

/**
 * Figures for the seeds' success criteria (seed 000): sync success rate > 95 %, dead letters
 * < 1 % of syncs, webhook processing p99 < 2 s, computed from one tenant's counts over one window
 * (store/metrics.ts reads them from D1).
 */

export const TARGETS = {
  successRateMin: 0.95,
  deadLetterShareMax: 0.01,
  webhookP99MsMax: 2000,
} as const;

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
    by_status: Record<SyncStatus, number>;
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

/** The platforms with processed webhooks in the window: known ids with a count above 0. */
export function latencyPlatforms(
  counts: Array<{ platform: string; n: number }>,
): Array<{ platform: LatencyFigures["platform"]; n: number }> {
  return counts.filter(
    (r): r is { platform: LatencyFigures["platform"]; n: number } =>
      (PLATFORMS as readonly string[]).includes(r.platform) && r.n > 0,
  );
}

/** The window's figures from its counts by status, dead letters and per-platform latencies. */
export function syncFigures(
  window: { from: number; to: number },
  statuses: Array<{ status: string; n: number }>,
  deadLetterCount: number,
  latency: LatencyFigures[],
): SyncMetrics {
  const byStatus = Object.fromEntries(SYNC_STATUSES.map((s) => [s, 0])) as Record<
    SyncStatus,
    number
  >;
  for (const r of statuses) {
    if (r.status in byStatus) byStatus[r.status as SyncStatus] = r.n;
  }
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const finished = byStatus.success + byStatus.failed + byStatus.deadlettered;
  return {
    window,
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
