import { createRoute } from "@hono/zod-openapi";
import {
  latencyPlatforms,
  percentileOffset,
  syncFigures,
  type SyncMetrics,
} from "../../domain/metrics";
import { requireTenantAuth } from "../../http/auth";
import { ApiError } from "../../http/errors";
import { AUTH_ERRORS, BEARER, createRouter, ok } from "../../http/openapi";
import { latencyAt, metricCounts } from "../../store/metrics";
import { MetricsQuery, SyncMetricsSchema } from "./schemas";

const DAY_MS = 86_400_000;
/** Longer than retention keeps anything (RETENTION_DAYS ≤ 3650), so no useful window is refused. */
const MAX_WINDOW_MS = 3660 * DAY_MS;

/**
 * Sync figures of one tenant over [from, to) (epoch ms): sync logs by triggered_at, dead letters
 * by created_at, webhook latency (processed_at - received_at of processed webhooks) by received_at.
 * Percentiles are exact, read in SQL (ORDER BY + OFFSET): two D1 batches.
 */
async function syncMetrics(
  db: D1Database,
  tenantId: string,
  from: number,
  to: number,
): Promise<SyncMetrics> {
  const counts = await metricCounts(db, tenantId, from, to);
  const platforms = latencyPlatforms(counts.latencyCounts);
  const ranks = platforms.map((c) => ({
    platform: c.platform,
    offsets: [percentileOffset(0.5, c.n), percentileOffset(0.99, c.n)],
  }));
  const at = platforms.length ? await latencyAt(db, tenantId, from, to, ranks) : [];
  const latency = platforms.map((c, i) => ({
    platform: c.platform,
    count: c.n,
    p50_ms: at[i]?.[0] ?? 0,
    p99_ms: at[i]?.[1] ?? 0,
  }));
  return syncFigures({ from, to }, counts.statuses, counts.deadLetters, latency);
}

/** GET /api/v1/metrics/sync: the tenant's sync success rate, dead-letter share and webhook latency. */
export const metrics = createRouter();
metrics.use("*", requireTenantAuth);
metrics.openapi(
  createRoute({
    method: "get",
    path: "/sync",
    tags: ["Metrics"],
    summary: "Sync success rate, dead letters as a share of syncs, webhook latency p50/p99",
    security: BEARER,
    request: { query: MetricsQuery },
    responses: {
      200: ok("Figures for the tenant over the window", SyncMetricsSchema),
      ...AUTH_ERRORS,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const to = q.to ?? Date.now();
    const from = q.from ?? to - DAY_MS;
    if (from >= to || to - from > MAX_WINDOW_MS) {
      throw new ApiError(
        400,
        "validation_failed",
        "query is invalid: from must be before to, and the window at most 3660 days",
        [{ path: "from", message: "must be before to" }],
      );
    }
    return c.json(await syncMetrics(c.env.DB, c.var.auth.tenantId, from, to), 200);
  },
);
