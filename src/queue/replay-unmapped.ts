import type { Platform } from "../db/channels.schema";
import { findConnection } from "../domain/connections";
import { bytesToBase64 } from "../lib/base64";
import { log } from "../lib/log";
import type { PullMessage, WebhookMessage } from "./messages";

export interface NewMapping {
  tenantId: string;
  connectionId: string;
  platform: Platform;
  mappingType: "property" | "room_type" | "rate_plan";
  externalId: string;
}

/** Platforms whose reservations are pulled: a replay is a fresh pull of the connection. */
const PULL_PLATFORMS: ReadonlySet<Platform> = new Set(["booking_com"]);
const MAX_REPLAY = 500;

interface UnmappedWebhook {
  eventId: string;
  eventType: string;
  payload: string;
  signature: string | null;
  receivedAt: number;
}

/**
 * Called after a mapping is created: events and bookings kept as `unmapped` for that listing/room
 * are replayed through the inbound queue, so they import now. Idempotent: a replayed event that
 * already applied is a duplicate to the consumer, and imports are revision-ordered.
 * Returns how many messages were enqueued.
 */
export async function replayUnmappedFor(env: Env, mapping: NewMapping): Promise<number> {
  if (mapping.mappingType === "rate_plan") return 0;
  const connection = await findConnection(env.DB, mapping.connectionId);
  if (!connection || connection.tenantId !== mapping.tenantId) return 0;

  // Webhooks that named this listing (or this connection's hotel) before anything mapped it.
  // They carry no tenant yet; those resolved to another tenant are never touched.
  const rows = await env.DB.prepare(
    `SELECT w.event_id AS eventId, e.event_type AS eventType, w.payload, w.signature,
            w.received_at AS receivedAt
     FROM channel_events e JOIN webhook_log w ON w.id = e.idempotency_key
     WHERE e.status = 'unmapped' AND e.platform = ? AND e.entity_external_id IN (?, ?)
       AND (e.tenant_id IS NULL OR e.tenant_id = ?)
     ORDER BY e.received_at LIMIT ${MAX_REPLAY}`,
  )
    .bind(mapping.platform, mapping.externalId, connection.externalPropertyId, mapping.tenantId)
    .all<UnmappedWebhook>();
  const messages: Array<WebhookMessage | PullMessage> = rows.results.map((r) => ({
    v: 1,
    kind: "webhook",
    platform: mapping.platform,
    eventId: r.eventId,
    eventType: r.eventType,
    receivedAt: r.receivedAt,
    signature: r.signature,
    bodyB64: bytesToBase64(new TextEncoder().encode(r.payload)),
  }));

  if (PULL_PLATFORMS.has(mapping.platform)) {
    // Unmapped pulled bookings were not acknowledged, so a pull offers them again.
    const now = Date.now();
    const key = `${mapping.platform}:replay:${connection.id}:${now}`;
    messages.push({
      v: 1,
      kind: "pull",
      platform: mapping.platform,
      connectionId: connection.id,
      tenantId: connection.tenantId,
      key,
      requestedAt: now,
    });
    await env.DB.prepare(
      `UPDATE channel_events SET status = 'ignored', outcome = ?, updated_at = ?
       WHERE status = 'unmapped' AND connection_id = ? AND event_type = 'reservations.pull'`,
    )
      .bind(`superseded by ${key}`, now, connection.id)
      .run();
  }
  for (let i = 0; i < messages.length; i += 100) {
    await env.INBOUND_QUEUE.sendBatch(
      messages.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const })),
    );
  }
  if (messages.length > 0) {
    log("info", "replay.unmapped", {
      connectionId: connection.id,
      externalId: mapping.externalId,
      messages: messages.length,
    });
  }
  return messages.length;
}
