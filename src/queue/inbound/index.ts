import { GateHeldError } from "../../../durable-objects/channel-gate/client";
import { engineConfig } from "../../config";
import { meteredD1, newMeter } from "../../store/d1-meter";
import { errorMessage, log } from "../../lib/log";
import { count } from "../../lib/metrics";
import { idempotencyKeyOf, inboundMessage, type InboundMessage } from "../messages";
import { dispositionFor, retryPolicyFor, type Disposition } from "../retry-policy";
import { deferForStorage } from "../storage-deferral";
import { isStorageFailure, LeaseHeldError } from "./errors";
import { recordFailure, type Attempt } from "./event-log";
import { processPull } from "./pull";
import { processWebhook } from "./webhook";

/**
 * The inbound queue's consumer: verified webhooks and pulls, imported into D1. Every message is
 * acked only once its work is committed, and ends applied, ignored with a reason, or
 * dead-lettered. Three kinds of trouble use no retry, because none is the event's fault:
 * - the ChannelGate held the platform call (rate limit, open circuit): the event goes back on the
 *   queue, delayed until the gate can call;
 * - D1 itself failed: the message goes back on the queue for hours if need be (storage-deferral);
 * - another delivery of the same event holds its lease: retry in 5 s.
 */

export interface ConsumerDeps {
  now: () => number;
  fetch: typeof fetch;
  random: () => number;
}

export const defaultDeps = (): ConsumerDeps => ({
  now: () => Date.now(),
  fetch: (input, init) => fetch(input, init),
  random: Math.random,
});

export interface DeadLetterEnvelope {
  kind: "dead_letter";
  reason: string;
  error: string;
  attempts: number;
  original: unknown;
  /** The id it first reached a dead-letter queue with, when it comes back from the vault. */
  messageId?: string;
}

/**
 * D1 calls one invocation may make (Cloudflare allows 1,000; the rest is margin), shared by the
 * batch's messages: each may use its share, and an import past it continues in another message.
 */
export const INVOCATION_D1_BUDGET = 900;

export async function handleInboundBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  deps: ConsumerDeps = defaultDeps(),
): Promise<void> {
  const share = Math.floor(INVOCATION_D1_BUDGET / Math.max(1, batch.messages.length));
  await Promise.all(batch.messages.map((msg) => handleInboundMessage(msg, env, deps, share)));
}

async function handleInboundMessage(
  msg: Message<unknown>,
  baseEnv: Env,
  deps: ConsumerDeps,
  budget: number,
) {
  const meter = newMeter();
  const env: Env = { ...baseEnv, DB: meteredD1(baseEnv.DB, meter) };
  const parsed = inboundMessage.safeParse(msg.body);
  if (!parsed.success) {
    await deadLetterNow(env, msg, "invalid_message", parsed.error.message);
    return;
  }
  const message = parsed.data;
  const key = idempotencyKeyOf(message);
  const config = engineConfig(env);
  const started = deps.now();
  const attempt: Attempt = { sync: null };
  try {
    const status =
      message.kind === "pull"
        ? await processPull(env, message, meter, budget, deps.now)
        : await processWebhook(
            env,
            {
              message,
              key,
              attempt: msg.attempts,
              maxRetries: (p) => config.maxRetriesByPlatform[p],
              meter,
              budget,
              now: deps.now,
            },
            attempt,
          );
    count("inbound_processed_total", { platform: message.platform, status });
    msg.ack();
  } catch (err) {
    await handleFailure(env, msg, message, key, err, attempt, deps, started);
  }
}

async function handleFailure(
  env: Env,
  msg: Message<unknown>,
  message: InboundMessage,
  key: string,
  err: unknown,
  attempt: Attempt,
  deps: ConsumerDeps,
  started: number,
): Promise<void> {
  if (
    err instanceof GateHeldError &&
    (await holdForGate(env, msg, message, key, err, attempt, deps))
  )
    return;
  if (isStorageFailure(err)) {
    // A pull is superseded by the next one the cron enqueues once D1 answers again.
    if (message.kind === "pull") return msg.ack();
    const firstSeen = message.receivedAt;
    if (await deferForStorage(env.INBOUND_QUEUE, msg, message, firstSeen, err, deps.now())) return;
  }
  const config = engineConfig(env);
  const disposition: Disposition =
    err instanceof LeaseHeldError
      ? { action: "retry", delaySeconds: 5 }
      : dispositionFor(err, msg.attempts, retryPolicyFor(config, message.platform), deps.random);
  log("warn", "inbound.failed", {
    key,
    attempt: msg.attempts,
    action: disposition.action,
    error: errorMessage(err),
    ms: deps.now() - started,
  });
  if (!(err instanceof LeaseHeldError)) {
    await recordFailure(env, key, msg.attempts, err, disposition, attempt, deps.now()).catch((e) =>
      log("error", "inbound.record_failure_failed", { key, error: errorMessage(e) }),
    );
  }
  if (disposition.action === "dead_letter") {
    await deadLetterNow(env, msg, disposition.reason, errorMessage(err));
  } else {
    // On the last attempt ("exhausted") too: past max_retries the queue moves the message to
    // the dead-letter queue, whose consumer stores it with its whole context.
    msg.retry({ delaySeconds: disposition.delaySeconds });
  }
}

/** Past this age an event the gate keeps holding is handled like any failure (and may dead-letter). */
export const MAX_GATE_HOLD_MS = 24 * 3_600_000;
/** Longest delay a queue message may be sent with. */
const MAX_QUEUE_DELAY_SECONDS = 43_200;

/**
 * The ChannelGate held the platform call (rate limit, open circuit): nothing was sent, so this is
 * no failure and must not use up a retry — a long platform outage would otherwise dead-letter
 * every booking made during it. The event goes back on the queue, delayed until the gate can
 * call, as a new message (the queue counts attempts per message), and the original is acked
 * once that send succeeded. After MAX_GATE_HOLD_MS it is treated as a failure after all.
 */
async function holdForGate(
  env: Env,
  msg: Message<unknown>,
  message: InboundMessage,
  key: string,
  err: GateHeldError,
  attempt: Attempt,
  deps: ConsumerDeps,
): Promise<boolean> {
  const now = deps.now();
  const since = message.kind === "webhook" ? message.receivedAt : message.requestedAt;
  if (now - since > MAX_GATE_HOLD_MS) return false;
  const delaySeconds = Math.min(
    MAX_QUEUE_DELAY_SECONDS,
    Math.max(1, Math.ceil((err.heldUntil - now) / 1000)),
  );
  const deferrals = (message.deferrals ?? 0) + 1;
  try {
    await env.INBOUND_QUEUE.send({ ...message, deferrals }, { contentType: "json", delaySeconds });
  } catch (sendErr) {
    log("error", "inbound.hold_send_failed", { key, error: errorMessage(sendErr) });
    return false;
  }
  log("info", "inbound.held_by_gate", { key, deferrals, delaySeconds, error: errorMessage(err) });
  count("inbound_held_total", { platform: message.platform });
  await recordFailure(
    env,
    key,
    msg.attempts,
    err,
    { action: "retry", delaySeconds },
    attempt,
    now,
  ).catch((e) => log("error", "inbound.record_failure_failed", { key, error: errorMessage(e) }));
  msg.ack();
  return true;
}

/** Send straight to the dead-letter queue (permanent failure), acking only once it is there. */
async function deadLetterNow(env: Env, msg: Message<unknown>, reason: string, error: string) {
  const envelope: DeadLetterEnvelope = {
    kind: "dead_letter",
    reason,
    error,
    attempts: msg.attempts,
    original: msg.body,
  };
  try {
    await env.INBOUND_DLQ.send(envelope, { contentType: "json" });
    msg.ack();
  } catch (err) {
    log("error", "inbound.dead_letter_send_failed", { error: errorMessage(err) });
    msg.retry({ delaySeconds: 5 });
  }
}
