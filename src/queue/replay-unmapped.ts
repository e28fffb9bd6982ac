import type { Platform } from "../store/schema/channels.schema";
import { findConnection } from "../store/connections";
import { log } from "../lib/log";
import { isPullPlatform } from "../platforms/registry";
import type { PullMessage, WebhookMessage } from "./messages";
import { supersedeUnmappedPulls, unmappedWebhookEvents } from "../store/event-replay";
import { inboundMessagesForEvents, PULL_EVENT_TYPE, sendInbound } from "./republish";

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

  const rows = await unmappedWebhookEvents(
    env.DB,
    {
      tenantId: mapping.tenantId,
      platform: mapping.platform,
      externalIds: [mapping.externalId, connection.externalPropertyId],
    },
    PULL_EVENT_TYPE,
    MAX_REPLAY,
  );
  const rebuilt = await inboundMessagesForEvents(env.DB, rows);
  const messages: Array<WebhookMessage | PullMessage> = rows.flatMap((r) => {
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
    await supersedeUnmappedPulls(
      env.DB,
      connection.id,
      PULL_EVENT_TYPE,
      `superseded by ${key}`,
      now,
    );
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
