import { createRoute, z } from "@hono/zod-openapi";
import { requireTenantAuth } from "../http/auth";
import { PLATFORMS } from "../store/schema/channels.schema";
import { syncMetrics } from "../domain/metrics";
import { SYNC_STATUSES } from "../domain/sync-log-state";
import { ApiError } from "../http/errors";
import { AUTH_ERRORS, BEARER, createRouter, ok } from "../http/openapi";

const DAY_MS = 86_400_000;
/** Longer than retention keeps anything (RETENTION_DAYS ≤ 3650), so no useful window is refused. */
const MAX_WINDOW_MS = 3660 * DAY_MS;

const epochMs = (description: string) =>
  z.coerce.number().int().min(0).optional().openapi({ description, example: 1767225600000 });

const MetricsQuery = z.object({
  from: epochMs("Window start, epoch ms (inclusive); default `to` − 24 h"),
  to: epochMs("Window end, epoch ms (exclusive); default now"),
});

const Ratio = z.number().min(0).max(1).nullable();

const SyncMetricsSchema = z
  .object({
    window: z.object({ from: z.number().int(), to: z.number().int() }),
    syncs: z.object({
      total: z.number().int().openapi({ description: "Sync logs triggered in the window" }),
      finished: z.number().int().openapi({ description: "success + failed + deadlettered" }),
      by_status: z.object(
        Object.fromEntries(SYNC_STATUSES.map((s) => [s, z.number().int()])) as Record<
          (typeof SYNC_STATUSES)[number],
          z.ZodNumber
        >,
      ),
      success_rate: Ratio.openapi({
        description: "success ÷ finished; null when nothing finished (target > 0.95)",
      }),
    }),
    dead_letters: z.object({
      count: z.number().int().openapi({ description: "Dead letters stored in the window" }),
      share_of_syncs: Ratio.openapi({
        description: "dead letters ÷ syncs in the window; null when no syncs (target < 0.01)",
      }),
    }),
    webhook_latency: z
      .array(
        z.object({
          platform: z.enum(PLATFORMS),
          count: z.number().int(),
          p50_ms: z.number(),
          p99_ms: z.number(),
        }),
      )
      .openapi({
        description:
          "Per platform, processed_at − received_at of this tenant's processed webhooks received in the window (nearest-rank percentiles; target p99 < 2000 ms)",
      }),
    targets: z.object({
      success_rate_min: z.number(),
      dead_letter_share_max: z.number(),
      webhook_p99_ms_max: z.number(),
    }),
  })
  .openapi("SyncMetrics");

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
