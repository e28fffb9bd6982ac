import { z } from "@hono/zod-openapi";
import { IdRef } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";
import { base64ToBytes } from "../../lib/encoding";
import {
  AttemptLog,
  canonicalPlatform,
  Order,
  parseAttemptLog,
  PlatformFilter,
  timeRangeQuery,
} from "../../services/operator";
import type { DeadLetterFilters, DeadLetterRow } from "../../store/dead-letters";

/** /api/v1/dead-letters: the schemas, the list query and the presenters. */

const QUEUES = ["inbound", "outbound"] as const;
const RESOLUTIONS = ["retried", "replayed", "ignored"] as const;

export const DeadLetterSchema = z
  .object({
    id: z.string().openapi({ example: "dlq_5a0e…" }),
    queue: z
      .string()
      .openapi({ example: "inbound", description: "The queue it was dead-lettered from" }),
    message_id: z.string(),
    connection_id: z.string().nullable(),
    platform: z.string().nullable(),
    idempotency_key: z
      .string()
      .nullable()
      .openapi({ description: "Inbound: its event's idempotency key (GET /api/v1/events?…)" }),
    error: z.string().nullable(),
    attempts: z.number().int(),
    created_at: z.number().int(),
    resolved_at: z.number().int().nullable(),
    resolution: z.enum(RESOLUTIONS).nullable(),
    resolution_note: z.string().nullable(),
  })
  .openapi("DeadLetter");
type ApiDeadLetter = z.infer<typeof DeadLetterSchema>;

export const DeadLetterDetailSchema = DeadLetterSchema.extend({
  event_id: z
    .string()
    .nullable()
    .openapi({ description: "Its channel event, if one was recorded" }),
  body: z.unknown().openapi({
    description: "The original queue message (a webhook's signature is left out)",
  }),
  payload: z
    .string()
    .nullable()
    .openapi({ description: "A webhook message's raw body, decoded; null otherwise" }),
  attempt_log: AttemptLog,
}).openapi("DeadLetterDetail");
type ApiDeadLetterDetail = z.infer<typeof DeadLetterDetailSchema>;

export function toApiDeadLetter(r: DeadLetterRow): ApiDeadLetter {
  return {
    id: r.id,
    queue: r.queue,
    message_id: r.messageId,
    connection_id: r.connectionId,
    platform: r.platform,
    idempotency_key: r.idempotencyKey,
    error: r.error,
    attempts: r.attempts,
    created_at: r.createdAt,
    resolved_at: r.resolvedAt,
    resolution: r.resolution,
    resolution_note: r.resolutionNote,
  };
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The detail: the original message without a webhook's signature, its raw body decoded. */
export function presentDeadLetterDetail(
  r: DeadLetterRow,
  eventId: string | null,
): ApiDeadLetterDetail {
  const body = parseBody(r.body);
  let shown: unknown = body;
  let payload: string | null = null;
  if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    const { signature: _signature, ...rest } = body as Record<string, unknown>;
    shown = rest;
    if (typeof rest.bodyB64 === "string") {
      try {
        payload = new TextDecoder().decode(base64ToBytes(rest.bodyB64));
      } catch {
        payload = null;
      }
    }
  }
  return {
    ...toApiDeadLetter(r),
    event_id: eventId,
    body: shown,
    payload,
    attempt_log: parseAttemptLog(r.attemptLog),
  };
}

export const ListQuery = PageQuery.extend({
  queue: z.enum(QUEUES).optional(),
  platform: PlatformFilter.optional(),
  connection_id: IdRef("con_4e1d…").optional(),
  property_id: IdRef("prop_3b1f…").optional().openapi({
    description: "Through the dead letter's connection (outbound: the message's property)",
  }),
  resolved: z
    .enum(["true", "false"])
    .default("false")
    .openapi({ description: "false (default): only unresolved ones" }),
  ...timeRangeQuery("created_at"),
  order: Order,
});

/** The list query as store/dead-letters.ts takes it (a platform alias resolved). */
export function deadLetterFilters(q: z.infer<typeof ListQuery>): DeadLetterFilters {
  return {
    resolved: q.resolved === "true",
    queue: q.queue,
    platform: q.platform ? canonicalPlatform(q.platform) : undefined,
    connection_id: q.connection_id,
    property_id: q.property_id,
    from: q.from,
    to: q.to,
  };
}
