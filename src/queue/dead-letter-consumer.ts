import { alertStatement } from "../domain/alerts";
import { newId } from "../lib/ids";
import { errorMessage, log } from "../lib/log";
import { count } from "../lib/metrics";
import type { DeadLetterEnvelope } from "./inbound-consumer";
import { idempotencyKeyOf, inboundMessage, outboundMessage } from "./messages";

function envelopeOf(body: unknown, attempts: number): DeadLetterEnvelope {
  if (
    typeof body === "object" &&
    body !== null &&
    (body as { kind?: unknown }).kind === "dead_letter"
  ) {
    return body as DeadLetterEnvelope;
  }
  // Moved here by the queue itself after max_retries: the error is in channel_events.
  return { kind: "dead_letter", reason: "retries_exhausted", error: "", attempts, original: body };
}

interface EventRow {
  tenantId: string | null;
  connectionId: string | null;
  platform: string;
  attempts: number;
  lastError: string | null;
  attemptLog: string;
}

/**
 * Store the full context of every dead letter in D1, mark its event and logs, and alert.
 * Nothing here is dropped: a failure retries the message (the DLQ consumers have their own retries).
 */
export async function handleDeadLetterBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  sourceQueue: "inbound" | "outbound",
  now: () => number = Date.now,
): Promise<void> {
  for (const msg of batch.messages) {
    try {
      const envelope = envelopeOf(msg.body, msg.attempts);
      const inbound =
        sourceQueue === "inbound" ? inboundMessage.safeParse(envelope.original) : null;
      const outbound =
        sourceQueue === "outbound" ? outboundMessage.safeParse(envelope.original) : null;
      const key = inbound?.success
        ? idempotencyKeyOf(inbound.data)
        : outbound?.success
          ? `outbound:${outbound.data.causeKey}:${outbound.data.roomTypeId}`
          : null;
      const event = key
        ? await env.DB.prepare(
            `SELECT tenant_id AS tenantId, connection_id AS connectionId, platform, attempts,
                    last_error AS lastError, attempt_log AS attemptLog
             FROM channel_events WHERE idempotency_key = ?`,
          )
            .bind(key)
            .first<EventRow>()
        : null;
      const tenantId = event?.tenantId ?? (outbound?.success ? outbound.data.tenantId : null);
      const platform = event?.platform ?? (inbound?.success ? inbound.data.platform : null);
      const error = envelope.error || event?.lastError || "retries exhausted";
      const t = now();
      const statements = [
        env.DB.prepare(
          `INSERT INTO dead_letters (id, queue, message_id, tenant_id, connection_id, platform, idempotency_key,
             body, error, attempts, attempt_log, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(queue, message_id) DO NOTHING`,
        ).bind(
          newId("dlq"),
          sourceQueue,
          msg.id,
          tenantId,
          event?.connectionId ?? null,
          platform,
          key,
          JSON.stringify(envelope.original),
          error.slice(0, 2000),
          Math.max(envelope.attempts, event?.attempts ?? 0),
          event?.attemptLog ?? "[]",
          t,
        ),
        alertStatement(
          env.DB,
          {
            tenantId,
            kind: "dead_letter",
            severity: "warning",
            message: `${sourceQueue} message ${key ?? msg.id} dead-lettered (${envelope.reason}): ${error.slice(0, 200)}`,
            details: { queue: sourceQueue, key, reason: envelope.reason },
            dedupeKey: `dead_letter:${sourceQueue}:${key ?? msg.id}`,
          },
          t,
        ),
      ];
      if (key && inbound?.success) {
        statements.push(
          env.DB.prepare(
            `UPDATE channel_events SET status = 'failed', last_error = ?, lease_until = NULL, updated_at = ?
             WHERE idempotency_key = ? AND status NOT IN ('done', 'ignored')`,
          ).bind(error.slice(0, 1000), t, key),
          env.DB.prepare(
            `UPDATE webhook_log SET status = 'failed', error = ?, processed_at = ? WHERE id = ? AND status = 'pending'`,
          ).bind(error.slice(0, 1000), t, key),
          env.DB.prepare(
            `UPDATE sync_logs SET status = 'deadlettered', finished_at = ?, error = ?
             WHERE event_id = ? AND status IN ('running', 'retrying', 'failed')`,
          ).bind(t, error.slice(0, 1000), key),
        );
      }
      await env.DB.batch(statements);
      count("dead_letters_total", { queue: sourceQueue });
      log("error", "dead_letter.stored", {
        queue: sourceQueue,
        key,
        reason: envelope.reason,
        error,
      });
      msg.ack();
    } catch (err) {
      log("error", "dead_letter.store_failed", { queue: sourceQueue, error: errorMessage(err) });
      msg.retry({ delaySeconds: 10 });
    }
  }
}
