import type { Platform } from "../store/schema/channels.schema";
import { findConnection } from "../store/connections";
import { log } from "../lib/log";
import { isPullPlatform } from "../platforms/registry";
import type { PullMessage, WebhookMessage } from "./messages";
import {
  inboundMessagesForEvents,
  PULL_EVENT_TYPE,
  REPUBLISH_COLUMNS,
  sendInbound,
  type EventForRepublish,
} from "./republish";

export interface NewMapping {
  tenantId: string;
  connectionId: string;
  platform: Platform;
  mappingType: "property" | "room_type" | "rate_plan";
  externalId: string;
}

const MAX_REPLAY = 500;

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
    `SELECT ${REPUBLISH_COLUMNS} FROM channel_events
     WHERE status = 'unmapped' AND platform = ? AND entity_external_id IN (?, ?)
       AND (tenant_id IS NULL OR tenant_id = ?) AND event_type != ?
       AND EXISTS (SELECT 1 FROM webhook_log w WHERE w.id = channel_events.idempotency_key)
     ORDER BY received_at LIMIT ${MAX_REPLAY}`,
  )
    .bind(
      mapping.platform,
      mapping.externalId,
      connection.externalPropertyId,
      mapping.tenantId,
      PULL_EVENT_TYPE,
    )
    .all<EventForRepublish>();
  const rebuilt = await inboundMessagesForEvents(env.DB, rows.results);
  const messages: Array<WebhookMessage | PullMessage> = rows.results.flatMap((r) => {
    const m = rebuilt.get(r.id);
    return m ? [m] : [];
  });

  // A pull platform's replay is a fresh pull of the connection.
  if (isPullPlatform(mapping.platform)) {
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
  await sendInbound(env.INBOUND_QUEUE, messages);
  if (messages.length > 0) {
    log("info", "replay.unmapped", {
      connectionId: connection.id,
      externalId: mapping.externalId,
      messages: messages.length,
    });
  }
  return messages.length;
}
