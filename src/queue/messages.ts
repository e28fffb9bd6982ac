import { z } from "zod";
import { PLATFORMS } from "../store/schema/channels.schema";

const platform = z.enum(PLATFORMS);
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** A verified webhook, exactly as received (base64 of the raw bytes, so nothing is re-encoded). */
export const webhookMessage = z.object({
  v: z.literal(1),
  kind: z.literal("webhook"),
  platform,
  eventId: z.string().min(1),
  eventType: z.string().min(1),
  receivedAt: z.number().int(),
  signature: z.string().nullable(),
  bodyB64: z.string(),
  /**
   * Stamped by the edge on each copy of a webhook it accepts, so the consumer can count every
   * duplicate delivery exactly once (a queue redelivery of the same copy keeps its id). Replays
   * made by the engine or an operator carry none: they are not deliveries.
   */
  deliveryId: z.string().min(1).max(64).optional(),
  /** Times the ChannelGate held this event back (not failures: they use no retry). */
  deferrals: z.number().int().min(0).optional(),
  /** Times it went back on the queue because D1 failed (storage-deferral.ts). */
  storageDeferrals: z.number().int().min(0).optional(),
});

/** Pull a pull-only platform's reservations for one connection (cron fallback, or a replay). */
export const pullMessage = z.object({
  v: z.literal(1),
  kind: z.literal("pull"),
  platform,
  connectionId: z.string(),
  tenantId: z.string(),
  key: z.string(),
  requestedAt: z.number().int(),
  deferrals: z.number().int().min(0).optional(),
});

export const inboundMessage = z.discriminatedUnion("kind", [webhookMessage, pullMessage]);
export type WebhookMessage = z.infer<typeof webhookMessage>;
export type PullMessage = z.infer<typeof pullMessage>;
export type InboundMessage = z.infer<typeof inboundMessage>;

/** "These nights of this room type changed": fan out to every other connection's ChannelGate. */
import { NIGHT_ASPECTS, type NightAspect } from "../domain/vocabulary";
export { NIGHT_ASPECTS, type NightAspect };
const nightAspect = z.enum(NIGHT_ASPECTS);

export const nightsChangedMessage = z.object({
  v: z.literal(1),
  kind: z.literal("nights.changed"),
  tenantId: z.string(),
  propertyId: z.string(),
  roomTypeId: z.string(),
  ranges: z.array(z.object({ start: isoDate, end: isoDate })).min(1),
  sourcePlatform: platform.nullable(),
  includeSource: z.boolean(),
  causeKey: z.string(),
  /** What changed; the gate pushes only these (a booking never re-sends prices). */
  aspects: z.array(nightAspect).min(1).default(["availability", "price"]),
  /**
   * A booking (or a conflict) changed these nights: the gates send them before any other push.
   * Absent on messages from before it existed, which are not urgent.
   */
  urgent: z.boolean().optional(),
  changedAt: z.number().int(),
  /** Times it went back on the queue because D1 failed (storage-deferral.ts). */
  storageDeferrals: z.number().int().min(0).optional(),
});
export type NightsChangedMessage = z.infer<typeof nightsChangedMessage>;
export const outboundMessage = nightsChangedMessage;
export type OutboundMessage = NightsChangedMessage;

export type QueueMessage = InboundMessage | OutboundMessage;

export function idempotencyKeyOf(msg: InboundMessage): string {
  return msg.kind === "webhook" ? `${msg.platform}:${msg.eventId}` : msg.key;
}
