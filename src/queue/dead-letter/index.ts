import { engineConfig } from "../config";
import { alertStatement, raiseAlert } from "../domain/alerts";
import type { SyncState } from "../domain/sync-log-state";
import { confirmSyncTransition, syncTransitionStatement } from "../store/sync-log-transitions";
import { newId } from "../lib/ids";
import { errorMessage, log } from "../lib/log";
import { count } from "../lib/metrics";
import type { DeadLetterEnvelope } from "./inbound";
import { idempotencyKeyOf, inboundMessage, outboundMessage } from "./messages";

export function envelopeOf(body: unknown, attempts: number): DeadLetterEnvelope {
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

/** The one vault instance (durable-objects/dead-letter-vault.ts). */
export const vaultOf = (env: Env) => env.DEAD_LETTER_VAULT.getByName("vault");

/**
 * The dead letter could not be stored (D1 down, most likely): keep it in the vault and ack, so
 * it can never expire unrecorded after the queue's last retry. False if even that failed.
 */
async function park(env: Env, msg: Message<unknown>, queue: "inbound" | "outbound") {
  try {
    const parked = await vaultOf(env).park({
      queue,
      messageId: envelopeOf(msg.body, msg.attempts).messageId ?? msg.id,
      body: JSON.stringify(msg.body),
    });
    log("error", "dead_letter.parked", { queue, messageId: msg.id, parked });
    count("dead_letters_parked_total", { queue });
    msg.ack();
    return true;
  } catch (err) {
    log("error", "dead_letter.park_failed", { queue, error: errorMessage(err) });
    return false;
  }
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
 * Nothing here is dropped: what cannot be stored (D1 down) is parked in the vault and stored once
 * D1 answers again; only when even the vault fails does the message use a retry.
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
          // A letter back from the vault keeps the id it first arrived with (stored once).
          envelope.messageId ?? msg.id,
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
      const fromStates: readonly SyncState[] = ["running", "retrying", "failed"];
      const syncStatement =
        key && inbound?.success
          ? syncTransitionStatement(
              env.DB,
              { eventId: key },
              fromStates,
              "deadlettered",
              { error: error.slice(0, 1000) },
              t,
            )
          : null;
      if (key && inbound?.success) {
        statements.push(
          env.DB.prepare(
            `UPDATE channel_events SET status = 'failed', last_error = ?, lease_until = NULL, updated_at = ?
             WHERE idempotency_key = ? AND status NOT IN ('done', 'ignored')`,
          ).bind(error.slice(0, 1000), t, key),
          env.DB.prepare(
            `UPDATE webhook_log SET status = 'failed', error = ?, processed_at = ? WHERE id = ? AND status = 'pending'`,
          ).bind(error.slice(0, 1000), t, key),
        );
      }
      if (syncStatement) statements.push(syncStatement);
      const results = await env.DB.batch(statements);
      if (key && syncStatement) {
        // No sync log (never resolved to a connection) is fine; a redelivered dead letter finds
        // its log dead-lettered already.
        await confirmSyncTransition(
          env.DB,
          { eventId: key },
          fromStates,
          "deadlettered",
          results.at(-1)?.meta.changes ?? 0,
          { quietIf: ["deadlettered"] },
        );
      }
      if ((results[0]?.meta.changes ?? 0) > 0) {
        // Stored is what matters; a failed threshold check is logged, not retried.
        await alertOnThreshold(env, tenantId, t).catch((e) =>
          log("error", "dead_letter.threshold_check_failed", { error: errorMessage(e) }),
        );
      }
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
      if (!(await park(env, msg, sourceQueue))) msg.retry({ delaySeconds: 10 });
    }
  }
}

/**
 * Raise (or bump) one dead_letter_threshold alert per tenant once its unresolved dead letters
 * exceed DEAD_LETTER_ALERT_THRESHOLD; dead letters with no tenant count against a global total.
 */
async function alertOnThreshold(env: Env, tenantId: string | null, now: number): Promise<void> {
  const threshold = engineConfig(env).deadLetterAlertThreshold;
  const row = await (
    tenantId === null
      ? env.DB.prepare(`SELECT count(*) AS n FROM dead_letters WHERE resolved_at IS NULL`)
      : env.DB.prepare(
          `SELECT count(*) AS n FROM dead_letters WHERE tenant_id = ? AND resolved_at IS NULL`,
        ).bind(tenantId)
  ).first<{ n: number }>();
  const unresolved = row?.n ?? 0;
  if (unresolved <= threshold) return;
  await raiseAlert(
    env.DB,
    {
      tenantId,
      kind: "dead_letter_threshold",
      severity: "critical",
      message: `${unresolved} unresolved dead letters${tenantId === null ? " (all tenants)" : ""}, above the threshold of ${threshold}`,
      details: { unresolved, threshold },
      dedupeKey: `dead_letter_threshold:${tenantId ?? "global"}`,
    },
    now,
  );
}
