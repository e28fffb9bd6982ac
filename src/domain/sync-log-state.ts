import { SYNC_STATUSES } from "./vocabulary";

/**
 * The sync-log state machine (seed 000 §1):
 *
 *   triggered → running → success | failed | retrying
 *   retrying  → running
 *   running | retrying | failed → deadlettered   (after the last attempt)
 *
 * success and deadlettered are final. Every transition is a compare-and-swap on D1 (its statements
 * are in store/sync-log-transitions.ts): a transition the table forbids, or one whose row has moved
 * on meanwhile, is refused and logged, never applied.
 */
export type SyncState = (typeof SYNC_STATUSES)[number];
export { SYNC_STATUSES };

export const SYNC_TRANSITIONS: Readonly<Record<SyncState, readonly SyncState[]>> = {
  triggered: ["running"],
  running: ["success", "failed", "retrying", "deadlettered"],
  retrying: ["running", "deadlettered"],
  failed: ["deadlettered"],
  success: [],
  deadlettered: [],
};

/** States a sync log is still open in (at most one per event). */
export const OPEN_SYNC_STATES: readonly SyncState[] = ["triggered", "running", "retrying"];
export const FINISHED_SYNC_STATES: readonly SyncState[] = ["success", "failed", "deadlettered"];

export function canTransition(from: SyncState, to: SyncState): boolean {
  return SYNC_TRANSITIONS[from].includes(to);
}

export function isFinal(state: SyncState): boolean {
  return SYNC_TRANSITIONS[state].length === 0;
}

/** The states of `from` that may go to `to` (none: the move is refused outright). */
export function legalSources(from: readonly SyncState[], to: SyncState): SyncState[] {
  return from.filter((f) => canTransition(f, to));
}
