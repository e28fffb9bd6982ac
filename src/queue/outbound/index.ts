import { gateFor } from "../../../durable-objects/channel-gate/client";
import { log, errorMessage } from "../../lib/log";
import { count } from "../../lib/metrics";
import { liveConnectionsToFanOut, type FanOutConnection } from "../../store/fan-out";
import type { DeadLetterEnvelope } from "../inbound";
import { isStorageFailure } from "../inbound/errors";
import { outboundMessage, type NightsChangedMessage } from "../messages";
import { backoffSeconds } from "../retry-policy";
import { deferForStorage } from "../storage-deferral";

/**
 * Every live connection of the property except the source (no echo) — inactive ones too
 * (paused, expired, inbound-only, availability sync off): their gates keep the marks without
 * sending, so when a connection comes back its channel gets every night that changed meanwhile.
 */
export async function fanOutTargets(
  db: D1Database,
  msg: NightsChangedMessage,
): Promise<FanOutConnection[]> {
  const rows = await liveConnectionsToFanOut(db, msg.tenantId, msg.propertyId);
  return rows.filter((c) => msg.includeSource || c.platform !== msg.sourcePlatform);
}

/** Hand "these nights changed" to each target connection's ChannelGate, which persists it. */
export async function handleOutboundBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  random: () => number = Math.random,
): Promise<void> {
  await Promise.all(batch.messages.map((msg) => handleOutboundMessage(msg, env, random)));
}

async function handleOutboundMessage(
  msg: Message<unknown>,
  env: Env,
  random: () => number,
): Promise<void> {
  const parsed = outboundMessage.safeParse(msg.body);
  if (!parsed.success) return deadLetterInvalid(msg, env, parsed.error.message);
  const data = parsed.data;
  try {
    const targets = await fanOutTargets(env.DB, data);
    // markDirty is idempotent, so a retry after a partial fan-out repeats it harmlessly.
    await Promise.all(
      targets.map((t) =>
        gateFor(env, t.id).markDirty({
          tenantId: data.tenantId,
          connectionId: t.id,
          roomTypeId: data.roomTypeId,
          ranges: data.ranges,
          causeKey: data.causeKey,
          aspects: data.aspects,
          urgent: data.urgent ?? false,
          changedAt: data.changedAt,
        }),
      ),
    );
    count("outbound_fanout_total", {}, targets.length);
    msg.ack();
  } catch (err) {
    if (
      isStorageFailure(err) &&
      (await deferForStorage(env.OUTBOUND_QUEUE, msg, data, data.changedAt, err, Date.now()))
    ) {
      return;
    }
    const delaySeconds = backoffSeconds(msg.attempts, undefined, random);
    log("warn", "outbound.fanout_failed", {
      cause: data.causeKey,
      attempt: msg.attempts,
      error: errorMessage(err),
    });
    msg.retry({ delaySeconds });
  }
}

/** A message that is no nights.changed goes straight to the dead-letter queue. */
async function deadLetterInvalid(msg: Message<unknown>, env: Env, error: string): Promise<void> {
  const envelope: DeadLetterEnvelope = {
    kind: "dead_letter",
    reason: "invalid_message",
    error,
    attempts: msg.attempts,
    original: msg.body,
  };
  try {
    await env.OUTBOUND_DLQ.send(envelope, { contentType: "json" });
    msg.ack();
  } catch {
    msg.retry({ delaySeconds: 5 });
  }
}
