import { errorMessage, log } from "../lib/log";
import { leaseRow, releaseLeaseRow, renewLease, takeLease } from "../store/leases";

/**
 * Job leases in D1 (job_leases, read and written in store/leases.ts). Cron Triggers promise neither exactly-once nor no-overlap, so a
 * job runs only while it holds its row. Taking it is one statement, a compare-and-swap:
 * INSERT ... ON CONFLICT DO UPDATE ... WHERE lease_until < now, checked through meta.changes.
 * A holder that dies keeps the lease only until it runs out (ttl).
 */

export interface Lease {
  name: string;
  holder: string;
  /** Extend the lease by another ttl; false if it was lost (expired and taken by another run). */
  renew(): Promise<boolean>;
}

export type LeaseOutcome<T> = { ran: true; result: T } | { ran: false; heldBy: string | null };

export function tryTakeLease(
  db: D1Database,
  name: string,
  holder: string,
  ttlMs: number,
  now: number,
): Promise<boolean> {
  return takeLease(db, name, holder, now + ttlMs, now);
}

/** Give the lease back (only if still ours), recording when the job ran and how it ended. */
export function releaseLease(
  db: D1Database,
  name: string,
  holder: string,
  now: number,
  lastResult: string,
): Promise<boolean> {
  return releaseLeaseRow(db, name, holder, now, lastResult.slice(0, 2000));
}

/**
 * Run `fn` only while holding lease `name`; another run holding it (not yet expired) makes this a
 * no-op ({ ran: false }). The lease is released afterwards, also when `fn` throws (rethrown).
 */
export async function withLease<T>(
  db: D1Database,
  name: string,
  holder: string,
  ttlMs: number,
  fn: (lease: Lease) => Promise<T>,
  now: () => number = Date.now,
): Promise<LeaseOutcome<T>> {
  if (!(await tryTakeLease(db, name, holder, ttlMs, now()))) {
    const current = await leaseRow(db, name);
    log("info", "lease.held_elsewhere", { name, holder, heldBy: current?.holder ?? null });
    return { ran: false, heldBy: current?.holder ?? null };
  }
  const lease: Lease = {
    name,
    holder,
    renew: () => renewLease(db, name, holder, now() + ttlMs),
  };
  let outcome = "ok";
  try {
    const result = await fn(lease);
    outcome = JSON.stringify(result ?? null) ?? "ok";
    return { ran: true, result };
  } catch (err) {
    outcome = `error: ${errorMessage(err)}`;
    throw err;
  } finally {
    await releaseLease(db, name, holder, now(), outcome).catch((e) =>
      log("error", "lease.release_failed", { name, holder, error: errorMessage(e) }),
    );
  }
}
