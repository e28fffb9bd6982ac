/**
 * The ChannelGate's circuit breaker (seed 002 §8.2), pure:
 *
 *   CLOSED    → OPEN       after `failureThreshold` consecutive failures
 *   OPEN      → HALF_OPEN  after `openMs`
 *   HALF_OPEN → CLOSED     after `successThreshold` consecutive successes
 *   HALF_OPEN → OPEN       on a failure
 *
 * In HALF_OPEN one probe is out at a time. A probe that never reports (the object died with it)
 * frees its slot after `probeTimeoutMs`, so the breaker cannot stick half-open. Only platform
 * failures count (5xx, timeouts, network); an answer that refuses our input proves the platform
 * is up, and "slow down" is the rate limiter's business.
 */

export type CircuitState = "closed" | "open" | "half_open";

export interface BreakerConfig {
  failureThreshold: number;
  openMs: number;
  successThreshold: number;
  probeTimeoutMs: number;
}

export const DEFAULT_BREAKER: BreakerConfig = {
  failureThreshold: 5,
  openMs: 60_000,
  successThreshold: 2,
  probeTimeoutMs: 30_000,
};

export interface Breaker {
  state: CircuitState;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  openedAt: number | null;
  /** A half-open probe is out until this time; null when none is. */
  probeUntil: number | null;
  /** How many times the circuit has opened (for the status route and alerts). */
  opens: number;
  changedAt: number;
}

export const CLOSED_BREAKER: Breaker = {
  state: "closed",
  consecutiveFailures: 0,
  consecutiveSuccesses: 0,
  openedAt: null,
  probeUntil: null,
  opens: 0,
  changedAt: 0,
};

export type Permit =
  | { allowed: true; probe: boolean; breaker: Breaker }
  | { allowed: false; retryInMs: number; breaker: Breaker };

/** May a call leave now? Moves OPEN → HALF_OPEN when the open time is over. */
export function permit(b: Breaker, cfg: BreakerConfig, now: number): Permit {
  if (b.state === "closed") return { allowed: true, probe: false, breaker: b };
  if (b.state === "open") {
    const reopenAt = (b.openedAt ?? now) + cfg.openMs;
    if (now < reopenAt) return { allowed: false, retryInMs: reopenAt - now, breaker: b };
    const half: Breaker = {
      ...b,
      state: "half_open",
      consecutiveSuccesses: 0,
      probeUntil: now + cfg.probeTimeoutMs,
      changedAt: now,
    };
    return { allowed: true, probe: true, breaker: half };
  }
  if (b.probeUntil !== null && now < b.probeUntil) {
    return { allowed: false, retryInMs: b.probeUntil - now, breaker: b };
  }
  return { allowed: true, probe: true, breaker: { ...b, probeUntil: now + cfg.probeTimeoutMs } };
}

export function onSuccess(b: Breaker, cfg: BreakerConfig, now: number): Breaker {
  if (b.state === "half_open") {
    const successes = b.consecutiveSuccesses + 1;
    if (successes >= cfg.successThreshold) {
      return {
        ...b,
        state: "closed",
        consecutiveFailures: 0,
        consecutiveSuccesses: 0,
        openedAt: null,
        probeUntil: null,
        changedAt: now,
      };
    }
    return { ...b, consecutiveSuccesses: successes, probeUntil: null };
  }
  if (b.state === "open") return b;
  return { ...b, consecutiveFailures: 0 };
}

export function onFailure(b: Breaker, cfg: BreakerConfig, now: number): Breaker {
  const open = (): Breaker => ({
    ...b,
    state: "open",
    consecutiveFailures: b.consecutiveFailures + 1,
    consecutiveSuccesses: 0,
    openedAt: now,
    probeUntil: null,
    opens: b.opens + 1,
    changedAt: now,
  });
  if (b.state === "half_open") return open();
  if (b.state === "open") return b;
  if (b.consecutiveFailures + 1 >= cfg.failureThreshold) return open();
  return { ...b, consecutiveFailures: b.consecutiveFailures + 1 };
}

/** A call that ended without a verdict on the platform's health (e.g. given up locally). */
export function onNeutral(b: Breaker): Breaker {
  return b.state === "half_open" ? { ...b, probeUntil: null } : b;
}
