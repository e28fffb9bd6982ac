import { engineConfig } from "../config";
import { log } from "../lib/log";
import { leaseRow } from "../store/leases";
import {
  deleteOldChunk,
  oldRowCount,
  RETENTION_TABLES,
  type RetentionTable,
} from "../store/retention";
import { withLease, type LeaseOutcome } from "./leases";

/**
 * Retention (seed 000: "auto-delete old logs", dead letters "auto-cleanup after 30 days"):
 * deletes what is older than RETENTION_DAYS and settled, in bounded chunks, under a lease.
 *
 * - sync_logs: finished (success; failed/deadlettered unless their event still has an unresolved
 *   dead letter an operator may act on), triggered and finished before the cutoff;
 * - dead_letters: resolved before the cutoff (unresolved ones are kept, however old);
 * - channel_events: done or ignored, received and processed before the cutoff (failed, retrying,
 *   unmapped ... stay: they are still to be acted on);
 * - webhook_log: processed or failed, received before the cutoff, unless its event is still open
 *   (an unmapped event is replayed from its webhook_log payload once mapped).
 */

export const RETENTION_LEASE = "retention";
/**
 * Rows per DELETE statement, and at most this many statements per table per run: 4 tables × 200
 * = 800 D1 calls, within one invocation's 1,000, and 100,000 rows per table a run. A run that
 * leaves a backlog says so, and the every-minute catch-up runs it again until none is left: up
 * to 6,000,000 rows per table an hour, one statement per 500 rows where the inflow wrote one or
 * more per row, so retention keeps up with whatever inflow D1 itself can take.
 */
export const RETENTION_CHUNK = 500;
export const RETENTION_MAX_CHUNKS = 200;
/** Backlog counts stop here: enough to tell "a little" from "a lot" without scanning everything. */
const BACKLOG_COUNT_CAP = 100_000;
const LEASE_TTL_MS = 10 * 60_000;
const DAY_MS = 86_400_000;

export type RetentionResult = Record<RetentionTable, number> & {
  cutoff: number;
  /** More old rows remain than one run's chunks could take; the next run continues. */
  more: boolean;
  /** Deletable rows left per table after this run (counted up to 100,000; 0 when none). */
  backlog: Record<RetentionTable, number>;
};

export interface RetentionOptions {
  chunk?: number;
  maxChunks?: number;
  holder?: string;
  /** Clock for the lease (its expiry and renewal). */
  clock?: () => number;
}

/** Delete old, settled rows. A run that finds the lease held by another does nothing. */
export async function runRetention(
  env: Env,
  now: number,
  opts: RetentionOptions = {},
): Promise<LeaseOutcome<RetentionResult>> {
  const chunk = opts.chunk ?? RETENTION_CHUNK;
  const maxChunks = opts.maxChunks ?? RETENTION_MAX_CHUNKS;
  const cutoff = now - engineConfig(env).retentionDays * DAY_MS;
  const holder = opts.holder ?? `retention:${now}:${crypto.randomUUID().slice(0, 8)}`;
  const outcome = await withLease(
    env.DB,
    RETENTION_LEASE,
    holder,
    LEASE_TTL_MS,
    async (lease) => {
      const result: RetentionResult = {
        cutoff,
        more: false,
        sync_logs: 0,
        dead_letters: 0,
        channel_events: 0,
        webhook_log: 0,
        backlog: { sync_logs: 0, dead_letters: 0, channel_events: 0, webhook_log: 0 },
      };
      for (const t of RETENTION_TABLES) {
        for (let i = 0; i < maxChunks; i++) {
          const deleted = await deleteOldChunk(env.DB, t, cutoff, chunk);
          result[t] += deleted;
          if (deleted < chunk) break;
          if (i === maxChunks - 1) {
            result.more = true;
            result.backlog[t] = await oldRowCount(env.DB, t, cutoff, BACKLOG_COUNT_CAP);
          }
        }
        // Between tables, make sure the lease is still ours (a very slow run may have outlived it).
        if (!(await lease.renew())) {
          log("warn", "retention.lease_lost", { holder });
          break;
        }
      }
      return result;
    },
    opts.clock,
  );
  if (outcome.ran) {
    log(outcome.result.more ? "warn" : "info", "retention.done", { ...outcome.result });
  }
  return outcome;
}

/**
 * Every minute: if the last retention run left a backlog, run again now instead of in an hour,
 * so retention catches up under any steady inflow. Cheap when there is none: one read.
 */
export async function retentionCatchUp(
  env: Env,
  now: number,
): Promise<LeaseOutcome<RetentionResult> | { ran: false; backlog: false }> {
  const last = await leaseRow(env.DB, RETENTION_LEASE);
  if (!leftBacklog(last?.lastResult ?? null)) return { ran: false, backlog: false };
  return runRetention(env, now);
}

/** Whether a run's recorded result (JSON, or "error: …") says it left rows behind. */
function leftBacklog(lastResult: string | null): boolean {
  try {
    return (JSON.parse(lastResult ?? "null") as { more?: boolean } | null)?.more === true;
  } catch {
    return false;
  }
}
