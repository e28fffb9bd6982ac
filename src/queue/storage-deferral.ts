import { errorMessage, log } from "../lib/log";
import { count } from "../lib/metrics";

/**
 * D1 itself failing is nobody's fault and may last minutes. A retry would spend the message's
 * few queue retries in seconds (1–16 s apart) and then dead-letter it, or — for a dead-letter
 * queue — delete it. So a message whose work failed on storage goes back on its queue as a new
 * message, delayed a little longer each time, for up to STORAGE_HORIZON_MS after it was first
 * seen, without touching its retries or recording a failure (which D1 could not store anyway).
 * Past the horizon it is handled like any failure: retried, then dead-lettered, then kept by
 * the dead-letter consumer (in D1, or in the vault while D1 is still down).
 */

export const STORAGE_HORIZON_MS = 12 * 3_600_000;
/** Seconds before each further try: half a minute rising to 15 minutes. */
export const STORAGE_DELAYS = [15, 30, 60, 120, 300, 600, 900] as const;

export interface Deferrable {
  storageDeferrals?: number;
}

export function storageDelaySeconds(deferrals: number): number {
  return STORAGE_DELAYS[Math.min(deferrals, STORAGE_DELAYS.length - 1)] ?? 900;
}

/** Put the message back on `queue` for later; false when it may not (past the horizon) or could not. */
export async function deferForStorage<T extends Deferrable>(
  queue: Queue,
  msg: Message<unknown>,
  message: T,
  firstSeenAt: number,
  err: unknown,
  now: number,
): Promise<boolean> {
  if (now - firstSeenAt > STORAGE_HORIZON_MS) return false;
  const deferrals = message.storageDeferrals ?? 0;
  const delaySeconds = storageDelaySeconds(deferrals);
  try {
    await queue.send(
      { ...message, storageDeferrals: deferrals + 1 },
      { contentType: "json", delaySeconds },
    );
  } catch (sendErr) {
    log("error", "storage_deferral.send_failed", { error: errorMessage(sendErr) });
    return false;
  }
  log("warn", "storage_deferral.deferred", {
    deferrals: deferrals + 1,
    delaySeconds,
    error: errorMessage(err),
  });
  count("storage_deferred_total", {});
  msg.ack();
  return true;
}
