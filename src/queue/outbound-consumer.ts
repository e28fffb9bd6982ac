import { gateFor } from "../../durable-objects/channel-gate/client";
import { log, errorMessage } from "../lib/log";
import { count } from "../lib/metrics";
import { outboundMessage, type NightsChangedMessage } from "./messages";
import { isStorageFailure } from "./inbound/errors";
import { backoffSeconds } from "./retry-policy";
import { deferForStorage } from "./storage-deferral";
import type { DeadLetterEnvelope } from "./inbound";

interface TargetConnection {
  id: string;
  platform: string;
}

/**
 * Every live connection of the property except the source (no echo) — inactive ones too
 * (paused, expired, inbound-only, availability sync off): their gates keep the marks without
 * sending, so when a connection comes back its channel gets every night that changed meanwhile.
 */
export async function fanOutTargets(
  db: D1Database,
  msg: NightsChangedMessage,
): Promise<TargetConnection[]> {
  const rows = await db
    .prepare(
      `SELECT id, platform FROM channel_connections
       WHERE tenant_id = ? AND property_id = ? AND deleted_at IS NULL`,
    )
    .bind(msg.tenantId, msg.propertyId)
    .all<TargetConnection>();
  return rows.results.filter((c) => msg.includeSource || c.platform !== msg.sourcePlatform);
}

/** Hand "these nights changed" to each target connection's ChannelGate, which persists it. */
export async function handleOutboundBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  random: () => number = Math.random,
): Promise<void> {
  await Promise.all(
    batch.messages.map(async (msg) => {
      const parsed = outboundMessage.safeParse(msg.body);
      if (!parsed.success) {
        const envelope: DeadLetterEnvelope = {
          kind: "dead_letter",
          reason: "invalid_message",
          error: parsed.error.message,
          attempts: msg.attempts,
          original: msg.body,
        };
        try {
          await env.OUTBOUND_DLQ.send(envelope, { contentType: "json" });
          msg.ack();
        } catch {
          msg.retry({ delaySeconds: 5 });
        }
        return;
      }
      try {
        const targets = await fanOutTargets(env.DB, parsed.data);
        // markDirty is idempotent, so a retry after a partial fan-out repeats it harmlessly.
        await Promise.all(
          targets.map((t) =>
            gateFor(env, t.id).markDirty({
              tenantId: parsed.data.tenantId,
              connectionId: t.id,
              roomTypeId: parsed.data.roomTypeId,
              ranges: parsed.data.ranges,
              causeKey: parsed.data.causeKey,
              aspects: parsed.data.aspects,
              urgent: parsed.data.urgent ?? false,
              changedAt: parsed.data.changedAt,
            }),
          ),
        );
        count("outbound_fanout_total", {}, targets.length);
        msg.ack();
      } catch (err) {
        const data = parsed.data;
        if (
          isStorageFailure(err) &&
          (await deferForStorage(env.OUTBOUND_QUEUE, msg, data, data.changedAt, err, Date.now()))
        ) {
          return;
        }
        const delaySeconds = backoffSeconds(msg.attempts, undefined, random);
        log("warn", "outbound.fanout_failed", {
          cause: parsed.data.causeKey,
          attempt: msg.attempts,
          error: errorMessage(err),
        });
        msg.retry({ delaySeconds });
      }
    }),
  );
}
