import { bytesToBase64 } from "../lib/encoding";
import { ID_CHUNK } from "../store/events";
import { webhookBodies, type EventForRepublish, type WebhookBodyRow } from "../store/event-replay";
import type { InboundMessage, PullMessage, WebhookMessage } from "./messages";

export type { EventForRepublish };

/**
 * Rebuilding an inbound queue message from what D1 kept of its event, so an event can be sent
 * through the inbound queue again (mapping created, operator retry or replay). The message has the
 * event's idempotency key, so the consumer claims the same channel_events row: it processes it
 * only if that row is claimable (received, retrying, failed, unmapped) and treats it as a
 * duplicate otherwise. Imports are revision-ordered, so re-applying an applied booking is 'stale'.
 */

/** A pull's event: reservations.pull, keyed by the pull's own key (cron, or a replay). */
export const PULL_EVENT_TYPE = "reservations.pull";

/** The verified webhook exactly as it was received: same event id, same raw body. */
function webhookMessage(event: EventForRepublish, w: WebhookBodyRow): WebhookMessage {
  return {
    v: 1,
    kind: "webhook",
    platform: event.platform,
    eventId: w.eventId,
    eventType: event.eventType,
    receivedAt: w.receivedAt,
    signature: w.signature,
    bodyB64: bytesToBase64(new TextEncoder().encode(w.payload)),
  };
}

/** A pull under the event's own key, so it claims the same event row again. */
function pullMessage(event: EventForRepublish): PullMessage | null {
  const connectionId = event.connectionId ?? event.entityExternalId;
  if (!connectionId || !event.tenantId) return null;
  return {
    v: 1,
    kind: "pull",
    platform: event.platform,
    connectionId,
    tenantId: event.tenantId,
    key: event.idempotencyKey,
    requestedAt: event.receivedAt,
  };
}

/**
 * The inbound message that re-runs this event, or null when it cannot be rebuilt: an outbound
 * event, or a webhook whose raw body is no longer kept (webhook_log retention).
 */
export async function inboundMessageForEvent(
  db: D1Database,
  event: EventForRepublish,
): Promise<WebhookMessage | PullMessage | null> {
  return (await inboundMessagesForEvents(db, [event])).get(event.id) ?? null;
}

/** inboundMessageForEvent for many events, reading webhook_log in chunks; keyed by event id. */
export async function inboundMessagesForEvents(
  db: D1Database,
  events: readonly EventForRepublish[],
): Promise<Map<string, WebhookMessage | PullMessage>> {
  const out = new Map<string, WebhookMessage | PullMessage>();
  const webhooks: EventForRepublish[] = [];
  for (const e of events) {
    if (e.direction !== "inbound") continue;
    if (e.eventType === PULL_EVENT_TYPE) {
      const m = pullMessage(e);
      if (m) out.set(e.id, m);
    } else {
      webhooks.push(e);
    }
  }
  for (let i = 0; i < webhooks.length; i += ID_CHUNK) {
    const chunk = webhooks.slice(i, i + ID_CHUNK);
    const rows = await webhookBodies(
      db,
      chunk.map((e) => e.idempotencyKey),
    );
    const byKey = new Map(rows.map((r) => [r.id, r]));
    for (const e of chunk) {
      const w = byKey.get(e.idempotencyKey);
      // The log row of another platform's event with the same key cannot exist (the key names
      // the platform), but never pair a body with the wrong event.
      if (w && `${e.platform}:${w.eventId}` === e.idempotencyKey) {
        out.set(e.id, webhookMessage(e, w));
      }
    }
  }
  return out;
}

/** Queues take at most 100 messages and 256 KB per sendBatch; stay well below the size. */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 200_000;

/** Send messages to the inbound queue in batches that respect the Queues limits. */
export async function sendInbound(
  queue: Queue,
  messages: readonly InboundMessage[],
): Promise<void> {
  let batch: InboundMessage[] = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await queue.sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
    batch = [];
    bytes = 0;
  };
  for (const m of messages) {
    const size = JSON.stringify(m).length + 100;
    if (batch.length >= MAX_BATCH_MESSAGES || (batch.length > 0 && bytes + size > MAX_BATCH_BYTES))
      await flush();
    batch.push(m);
    bytes += size;
  }
  await flush();
}
