import { z } from "@hono/zod-openapi";
import { SYNC_STATUSES } from "../../domain/vocabulary";
import { PLATFORMS } from "../../store/schema/channels.schema";

const epochMs = (description: string) =>
  z.coerce.number().int().min(0).optional().openapi({ description, example: 1767225600000 });

export const MetricsQuery = z.object({
  from: epochMs("Window start, epoch ms (inclusive); default `to` − 24 h"),
  to: epochMs("Window end, epoch ms (exclusive); default now"),
});

const Ratio = z.number().min(0).max(1).nullable();

export const SyncMetricsSchema = z
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
