import type { Platform } from "../store/schema/channels.schema";
import { bytesToBase64 } from "../lib/encoding";
import type { InboundMessage, PullMessage, WebhookMessage } from "./messages";

/**
 * Rebuilding an inbound queue message from what D1 kept of its event, so an event can be sent
 * through the inbound queue again (mapping created, operator retry or replay). The message has the
 * event's idempotency key, so the consumer claims the same channel_events row: it processes it
 * only if that row is claimable (received, retrying, failed, unmapped) and treats it as a
 * duplicate otherwise. Imports are revision-ordered, so re-applying an applied booking is 'stale'.
 */

/** The channel_events columns a message is rebuilt from. */
export interface EventForRepublish {
  id: string;
  tenant_id: string | null;
  connection_id: string | null;
  platform: Platform;
  direction: "inbound" | "outbound";
  event_type: string;
  idempotency_key: string;
  entity_external_id: string | null;
  received_at: number;
}

/** The SELECT list for EventForRepublish (unqualified column names). */
export const REPUBLISH_COLUMNS = `id, tenant_id, connection_id, platform, direction, event_type, idempotency_key,
  entity_external_id, received_at`;

/** A pull's event: reservations.pull, keyed by the pull's own key (cron, or a replay). */
export const PULL_EVENT_TYPE = "reservations.pull";

interface WebhookLogRow {
  id: string;
  event_id: string;
  payload: string;
  signature: string | null;
  received_at: number;
}

/** The verified webhook exactly as it was received: same event id, same raw body. */
function webhookMessage(event: EventForRepublish, w: WebhookLogRow): WebhookMessage {
  return {
    v: 1,
    kind: "webhook",
    platform: event.platform,
    eventId: w.event_id,
    eventType: event.event_type,
    receivedAt: w.received_at,
    signature: w.signature,
    bodyB64: bytesToBase64(new TextEncoder().encode(w.payload)),
  };
}

/** A pull under the event's own key, so it claims the same event row again. */
function pullMessage(event: EventForRepublish): PullMessage | null {
  const connectionId = event.connection_id ?? event.entity_external_id;
  if (!connectionId || !event.tenant_id) return null;
  return {
    v: 1,
    kind: "pull",
    platform: event.platform,
    connectionId,
    tenantId: event.tenant_id,
    key: event.idempotency_key,
    requestedAt: event.received_at,
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

/** D1 allows 100 bound parameters per statement. */
const IN_CHUNK = 90;

/** inboundMessageForEvent for many events, reading webhook_log in chunks; keyed by event id. */
export async function inboundMessagesForEvents(
  db: D1Database,
  events: readonly EventForRepublish[],
): Promise<Map<string, WebhookMessage | PullMessage>> {
  const out = new Map<string, WebhookMessage | PullMessage>();
  const webhooks: EventForRepublish[] = [];
  for (const e of events) {
    if (e.direction !== "inbound") continue;
    if (e.event_type === PULL_EVENT_TYPE) {
      const m = pullMessage(e);
      if (m) out.set(e.id, m);
    } else {
      webhooks.push(e);
    }
  }
  for (let i = 0; i < webhooks.length; i += IN_CHUNK) {
    const chunk = webhooks.slice(i, i + IN_CHUNK);
    const rows = await db
      .prepare(
        `SELECT id, event_id, payload, signature, received_at FROM webhook_log
         WHERE id IN (${chunk.map(() => "?").join(", ")})`,
      )
      .bind(...chunk.map((e) => e.idempotency_key))
      .all<WebhookLogRow>();
    const byKey = new Map(rows.results.map((r) => [r.id, r]));
    for (const e of chunk) {
      const w = byKey.get(e.idempotency_key);
      // The log row of another platform's event with the same key cannot exist (the key names
      // the platform), but never pair a body with the wrong event.
      if (w && `${e.platform}:${w.event_id}` === e.idempotency_key) {
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
