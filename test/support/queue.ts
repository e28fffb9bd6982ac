import { env } from "cloudflare:workers";
import { bytesToBase64 } from "../../src/lib/encoding";
import { handleInboundBatch } from "../../src/queue/inbound";
import type { WebhookMessage } from "../../src/queue/messages";

/** An inbound queue message for an Airbnb `reservation.created` webhook (fresh event id). */
export function webhookFor(listingId: string, code: string): WebhookMessage {
  const eventId = `evt_${crypto.randomUUID()}`;
  const body = JSON.stringify({
    event_id: eventId,
    event_type: "reservation.created",
    listing_id: listingId,
    confirmation_code: code,
    occurred_at: new Date().toISOString(),
  });
  return {
    v: 1,
    kind: "webhook",
    platform: "airbnb",
    eventId,
    eventType: "reservation.created",
    receivedAt: Date.now(),
    signature: "t=1,v1=00",
    bodyB64: bytesToBase64(new TextEncoder().encode(body)),
  };
}

/**
 * One delivery attempt through the real consumer. The batch is built by hand so the test can read
 * the exact delay passed to retry() (the Workers test helper records retries without their delays).
 */
export async function deliverAttempt(
  message: WebhookMessage,
  attempts: number,
  withEnv: Env = env,
) {
  const outcome: { acked: boolean; retryDelay?: number } = { acked: false };
  const msg = {
    id: `m-${attempts}`,
    timestamp: new Date(),
    attempts,
    body: message,
    ack: () => {
      outcome.acked = true;
    },
    retry: (opts?: { delaySeconds?: number }) => {
      outcome.retryDelay = opts?.delaySeconds;
    },
  };
  await handleInboundBatch(messageBatch("inbound", [msg]), withEnv, {
    now: () => Date.now(),
    fetch: (i, init) => fetch(i, init),
    random: () => 0,
  });
  return outcome;
}

/** A queue batch built by hand, typed: the consumer under test reads exactly these messages. */
export function messageBatch<Body>(
  queue: string,
  messages: readonly Message<Body>[],
): MessageBatch<Body> {
  return {
    queue,
    messages,
    metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } },
    ackAll: () => {},
    retryAll: () => {},
  };
}

/**
 * A stand-in queue, typed: every message sent (alone or in a batch) is handed to `onSend` with
 * its delay, so a test records or refuses what a consumer enqueues instead of enqueuing it.
 */
export function fakeQueue<Body = unknown>(
  onSend: (body: Body, delaySeconds: number | undefined) => void | Promise<void>,
): Queue<Body> {
  const metrics = { backlogCount: 0, backlogBytes: 0 };
  return {
    metrics: async () => metrics,
    send: async (body, options) => {
      await onSend(body, options?.delaySeconds);
      return { metadata: { metrics } };
    },
    sendBatch: async (messages) => {
      for (const m of messages) await onSend(m.body, m.delaySeconds);
      return { metadata: { metrics } };
    },
  };
}
