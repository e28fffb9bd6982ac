import { z } from "@hono/zod-openapi";
import { PULL_EVENT_TYPE } from "../queue/republish";
import { eventContext, type EventRow } from "../store/events";
import { EVENT_STATUSES } from "../store/schema/events.schema";
import { PLATFORMS } from "../store/schema/channels.schema";
import { AttemptLog, parseAttemptLog } from "./operator";

/**
 * A channel event as the API shows it, and its detail (attempt log, raw payload, dead letters and
 * the booking changes it applied). The events router shows it, and so does a sync log's retry,
 * so it lives here rather than in api/events/.
 */

export const DIRECTIONS = ["inbound", "outbound"] as const;

export const EventSchema = z
  .object({
    id: z.string().openapi({ example: "evt_9f2c…" }),
    platform: z.enum(PLATFORMS),
    direction: z.enum(DIRECTIONS),
    event_type: z.string().openapi({ example: "reservation.created" }),
    status: z.enum(EVENT_STATUSES),
    connection_id: z.string().nullable(),
    property_id: z.string().nullable(),
    entity_external_id: z
      .string()
      .nullable()
      .openapi({ description: "The platform's id the event names (event id, listing, hotel)" }),
    idempotency_key: z.string().openapi({ example: "airbnb:evt_123" }),
    attempts: z.number().int().openapi({ description: "Deliveries since the last reset" }),
    duplicates: z.number().int(),
    last_error: z.string().nullable(),
    outcome: z
      .string()
      .nullable()
      .openapi({ description: "What processing did, or why the event was ignored" }),
    received_at: z.number().int(),
    processed_at: z.number().int().nullable(),
    updated_at: z.number().int(),
  })
  .openapi("ChannelEvent");
type ApiEvent = z.infer<typeof EventSchema>;

export const EventDetailSchema = EventSchema.extend({
  attempt_log: AttemptLog.openapi({ description: "Every failed attempt, kept across retries" }),
  payload: z.string().nullable().openapi({
    description:
      "The webhook body exactly as received (never its signature); null for pulls or once retention removed it",
  }),
  dead_letters: z.array(
    z.object({
      id: z.string(),
      created_at: z.number().int(),
      resolved_at: z.number().int().nullable(),
      resolution: z.enum(["retried", "replayed", "ignored"]).nullable(),
    }),
  ),
  changes: z
    .array(
      z.object({
        booking_id: z.string(),
        channel_booking_id: z.string(),
        outcome: z.string().openapi({ example: "created" }),
        status: z.string().openapi({ description: "The booking's status as this change left it" }),
        check_in: z.string(),
        check_out: z.string(),
        channel_revision: z.number().int(),
        at: z.number().int(),
      }),
    )
    .openapi({
      description:
        "Every booking change this event applied, in whichever attempt (GET /api/v1/events?booking_id= goes the other way)",
    }),
}).openapi("ChannelEventDetail");
type ApiEventDetail = z.infer<typeof EventDetailSchema>;

export function toApiEvent(r: EventRow): ApiEvent {
  return {
    id: r.id,
    platform: r.platform,
    direction: r.direction,
    event_type: r.eventType,
    status: r.status,
    connection_id: r.connectionId,
    property_id: r.propertyId,
    entity_external_id: r.entityExternalId,
    idempotency_key: r.idempotencyKey,
    attempts: r.attempts,
    duplicates: r.duplicates,
    last_error: r.lastError,
    outcome: r.outcome,
    received_at: r.receivedAt,
    processed_at: r.processedAt,
    updated_at: r.updatedAt,
  };
}

/** The event with its attempt log, raw payload (no signature) and dead letters: one D1 batch. */
export async function eventDetail(db: D1Database, r: EventRow): Promise<ApiEventDetail> {
  const { payload, deadLetters, changes } = await eventContext(db, r, PULL_EVENT_TYPE);
  return {
    ...toApiEvent(r),
    attempt_log: parseAttemptLog(r.attemptLog),
    payload,
    dead_letters: deadLetters.map((d) => ({
      id: d.id,
      created_at: d.createdAt,
      resolved_at: d.resolvedAt,
      resolution: d.resolution,
    })),
    changes,
  };
}
