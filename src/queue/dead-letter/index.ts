import { engineConfig } from "../../config";
import { alertStatement, raiseAlert } from "../../store/alerts";
import type { SyncState } from "../../domain/sync-log-state";
import {
  eventOfKey,
  failDeadEventStatements,
  storeDeadLetterStatement,
  unresolvedCount,
} from "../../store/dead-letters";

import { confirmSyncTransition, syncTransitionStatement } from "../../store/sync-log-transitions";
import { newId } from "../../lib/ids";
import { errorMessage, log } from "../../lib/log";
import { count } from "../../lib/metrics";
import type { DeadLetterEnvelope } from "../inbound";
import {
  idempotencyKeyOf,
  inboundMessage,
  outboundMessage,
  type InboundMessage,
  type OutboundMessage,
} from "../messages";

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

type Parsed = {
  key: string | null;
  inbound: InboundMessage | null;
  outbound: OutboundMessage | null;
};

/** The original message as its queue's schema reads it, and the idempotency key it names. */
function parseOriginal(original: unknown, sourceQueue: "inbound" | "outbound"): Parsed {
  const inbound = sourceQueue === "inbound" ? inboundMessage.safeParse(original) : null;
  const outbound = sourceQueue === "outbound" ? outboundMessage.safeParse(original) : null;
  const key = inbound?.success
    ? idempotencyKeyOf(inbound.data)
    : outbound?.success
      ? `outbound:${outbound.data.causeKey}:${outbound.data.roomTypeId}`
      : null;
  return {
    key,
    inbound: inbound?.success ? inbound.data : null,
    outbound: outbound?.success ? outbound.data : null,
  };
}

const FROM_STATES: readonly SyncState[] = ["running", "retrying", "failed"];

/** The event's sync log moves to deadlettered (null when no source state can). */
const deadletterSync = (db: D1Database, eventId: string, error: string, t: number) =>
  syncTransitionStatement(
    db,
    { eventId },
    FROM_STATES,
    "deadlettered",
    { error: error.slice(0, 1000) },
    t,
  );

/**
 * No sync log (never resolved to a connection) is fine; a redelivered dead letter finds its log
 * dead-lettered already.
 */
const confirmDeadletterSync = (db: D1Database, eventId: string, result: D1Result | undefined) =>
  confirmSyncTransition(db, { eventId }, FROM_STATES, "deadlettered", result?.meta.changes ?? 0, {
    quietIf: ["deadlettered"],
  });

/** Store one dead letter with its event's context, mark its event and logs, alert. */
async function storeOne(
  env: Env,
  msg: Message<unknown>,
  sourceQueue: "inbound" | "outbound",
  t: number,
): Promise<void> {
  const envelope = envelopeOf(msg.body, msg.attempts);
  const { key, inbound, outbound } = parseOriginal(envelope.original, sourceQueue);
  const event = key ? await eventOfKey(env.DB, key) : undefined;
  const tenantId = event?.tenantId ?? outbound?.tenantId ?? null;
  const platform = event?.platform ?? inbound?.platform ?? null;
  const error = envelope.error || event?.lastError || "retries exhausted";
  const label = key ?? msg.id;
  const statements = [
    storeDeadLetterStatement(env.DB, {
      id: newId("dlq"),
      queue: sourceQueue,
      // A letter back from the vault keeps the id it first arrived with (stored once).
      messageId: envelope.messageId ?? msg.id,
      tenantId,
      connectionId: event?.connectionId ?? null,
      platform,
      idempotencyKey: key,
      body: JSON.stringify(envelope.original),
      error: error.slice(0, 2000),
      attempts: Math.max(envelope.attempts, event?.attempts ?? 0),
      attemptLog: event?.attemptLog ?? "[]",
      createdAt: t,
    }),
    alertStatement(
      env.DB,
      {
        tenantId,
        kind: "dead_letter",
        severity: "warning",
        message: `${sourceQueue} message ${label} dead-lettered (${envelope.reason}): ${error.slice(0, 200)}`,
        details: { queue: sourceQueue, key, reason: envelope.reason },
        dedupeKey: `dead_letter:${sourceQueue}:${label}`,
      },
      t,
    ),
  ];
  const inboundKey = key && inbound ? key : null;
  const sync = inboundKey ? deadletterSync(env.DB, inboundKey, error, t) : null;
  if (inboundKey) {
    statements.push(...failDeadEventStatements(env.DB, inboundKey, error.slice(0, 1000), t));
  }
  if (sync) statements.push(sync);
  const results = await env.DB.batch(statements);
  if (inboundKey && sync) await confirmDeadletterSync(env.DB, inboundKey, results.at(-1));
  if ((results[0]?.meta.changes ?? 0) > 0) {
    // Stored is what matters; a failed threshold check is logged, not retried.
    await alertOnThreshold(env, tenantId, t).catch((e) =>
      log("error", "dead_letter.threshold_check_failed", { error: errorMessage(e) }),
    );
  }
  count("dead_letters_total", { queue: sourceQueue });
  log("error", "dead_letter.stored", { queue: sourceQueue, key, reason: envelope.reason, error });
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
      await storeOne(env, msg, sourceQueue, now());
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
  const unresolved = await unresolvedCount(env.DB, tenantId);
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
