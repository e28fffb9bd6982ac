import { z } from "@hono/zod-openapi";
import { IdRef } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";
import { DIRECTIONS, EventSchema } from "../../services/event-view";
import { canonicalPlatform, Order, PlatformFilter, timeRangeQuery } from "../../services/operator";
import { EVENT_STATUSES } from "../../store/schema/events.schema";

/**
 * /api/v1/events: the list query and the batch retry's body and result. The event and its detail
 * (services/event-view.ts) are shared with the sync-log router.
 */

const EventType = z.string().trim().min(1).max(100).openapi({ example: "reservation.created" });

export const ListQuery = PageQuery.extend({
  status: z.enum(EVENT_STATUSES).optional(),
  booking_id: IdRef("bk_7c2e…")
    .optional()
    .openapi({ description: "Only the events that changed this booking (created, moved, …)" }),
  property_id: IdRef("prop_3b1f…").optional(),
  connection_id: IdRef("con_4e1d…").optional(),
  platform: PlatformFilter.optional(),
  event_type: EventType.optional(),
  direction: z.enum(DIRECTIONS).optional(),
  ...timeRangeQuery("received_at"),
  sort: z.enum(["received_at", "updated_at"]).default("received_at"),
  order: Order,
});

const MAX_BATCH = 500;
export const BatchRetryBody = z
  .object({
    status: z
      .enum(["failed", "retrying", "unmapped"])
      .default("failed")
      .openapi({ description: "Which retryable events to take (default failed)" }),
    property_id: IdRef("prop_3b1f…").optional(),
    connection_id: IdRef("con_4e1d…").optional(),
    platform: PlatformFilter.optional(),
    event_type: EventType.optional(),
    direction: z.enum(DIRECTIONS).optional(),
    from: z
      .number()
      .int()
      .min(0)
      .optional()
      .openapi({ description: "received_at >= from (epoch ms)" }),
    to: z.number().int().min(0).optional().openapi({ description: "received_at < to (epoch ms)" }),
    limit: z.number().int().min(1).max(MAX_BATCH).default(MAX_BATCH),
  })
  .strict()
  .openapi("BatchRetryFilter");

export const BatchRetryResult = z
  .object({
    matched: z
      .number()
      .int()
      .openapi({ description: "Events matching the filters before this call" }),
    retried: z.number().int().openapi({ description: "Events reset and sent again by this call" }),
    skipped: z
      .array(z.object({ id: z.string(), reason: z.string() }))
      .openapi({ description: "Matching events this call took but could not send again" }),
    more: z.boolean().openapi({
      description:
        "More events matched than this call takes (limit, at most 500): call again for the next ones",
    }),
    data: z.array(EventSchema).openapi({ description: "The retried events, as updated" }),
  })
  .openapi("BatchRetryResult");

/** The list's or the batch's filters as store/events.ts takes them (a platform alias resolved). */
export function filtersOf<F extends { platform?: z.infer<typeof PlatformFilter> | undefined }>(
  q: F,
): Omit<F, "platform"> & { platform?: ReturnType<typeof canonicalPlatform> } {
  const { platform, ...rest } = q;
  return { ...rest, ...(platform ? { platform: canonicalPlatform(platform) } : {}) };
}
