import { ZodError } from "zod";
import { PlatformError } from "../platforms/types";

export interface BackoffPolicy {
  baseSeconds: number;
  factor: number;
  capSeconds: number;
  /** Up to this share of the delay is added at random, so many retries do not land together. */
  jitter: number;
}

/** Seed 000: 1, 2, 4, 8, 16 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = {
  baseSeconds: 1,
  factor: 2,
  capSeconds: 16,
  jitter: 0.5,
};
/** Seed 004: rate-limited calls back off far longer when the platform gives no Retry-After. */
export const RATE_LIMIT_DELAYS = [60, 300, 900] as const;
/** Cloudflare Queues accept delays of at most 12 hours. */
const MAX_QUEUE_DELAY = 43_200;

/** Delay before retry number `attempt` (1-based), in whole seconds. */
export function backoffSeconds(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exp = Math.min(
    policy.capSeconds,
    policy.baseSeconds * policy.factor ** Math.max(0, attempt - 1),
  );
  return Math.min(MAX_QUEUE_DELAY, Math.ceil(exp * (1 + policy.jitter * random())));
}

export function rateLimitSeconds(attempt: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined && retryAfterSeconds > 0) {
    return Math.min(MAX_QUEUE_DELAY, Math.ceil(retryAfterSeconds));
  }
  const i = Math.min(RATE_LIMIT_DELAYS.length - 1, Math.max(0, attempt - 1));
  return RATE_LIMIT_DELAYS[i] ?? 900;
}

/** An error that no retry can fix (bad data, unknown booking): dead-letter it at once. */
export class PermanentError extends Error {
  override name = "PermanentError";
}

export type Disposition =
  { action: "retry"; delaySeconds: number } | { action: "dead_letter"; reason: string };

/** What to do with a message whose processing threw. */
export function dispositionFor(err: unknown, attempt: number, random?: () => number): Disposition {
  if (err instanceof PermanentError || err instanceof ZodError) {
    return { action: "dead_letter", reason: "permanent" };
  }
  if (err instanceof PlatformError) {
    if (err.kind === "permanent") return { action: "dead_letter", reason: "permanent" };
    if (err.kind === "rate_limited") {
      return { action: "retry", delaySeconds: rateLimitSeconds(attempt, err.retryAfterSeconds) };
    }
  }
  return { action: "retry", delaySeconds: backoffSeconds(attempt, DEFAULT_BACKOFF, random) };
}
