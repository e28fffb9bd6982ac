import { ZodError } from "zod";
import {
  DEFAULT_BACKOFF,
  DEFAULT_MAX_RETRIES,
  type BackoffPolicy,
  type EngineConfig,
} from "../config";
import type { Platform } from "../store/schema/channels.schema";
import { PlatformError } from "../platforms/contract";

export { DEFAULT_BACKOFF, type BackoffPolicy };

/** Seed 004: rate-limited calls back off far longer when the platform gives no Retry-After. */
export const RATE_LIMIT_DELAYS = [60, 300, 900] as const;
/** Cloudflare Queues accept delays of at most 12 hours. */
const MAX_QUEUE_DELAY = 43_200;

/** Everything dispositionFor needs to decide, so it stays pure. */
export interface RetryPolicy {
  backoff: BackoffPolicy;
  /** Retries this message may take (its platform's limit), after the first attempt. */
  maxRetries: number;
  /**
   * The queue's own max_retries (wrangler.toml): past it, retry() makes the queue move the
   * message to its dead-letter queue. A platform limit below it is enforced by sending the message
   * to the dead-letter queue directly.
   */
  queueMaxRetries: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  backoff: DEFAULT_BACKOFF,
  maxRetries: DEFAULT_MAX_RETRIES,
  queueMaxRetries: DEFAULT_MAX_RETRIES,
};

/** The retry policy for one platform's messages, from the engine's configuration. */
export function retryPolicyFor(config: EngineConfig, platform: Platform): RetryPolicy {
  return {
    backoff: config.backoff,
    maxRetries: config.maxRetriesByPlatform[platform] ?? config.maxRetries,
    queueMaxRetries: config.maxRetries,
  };
}

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

/**
 * - retry: more attempts remain; retry({ delaySeconds }).
 * - exhausted: this was the last attempt; still retry() it, so the queue (past its max_retries)
 *   moves it to the dead-letter queue, whose consumer stores it.
 * - dead_letter: send it to the dead-letter queue now (permanent error, or the platform's own
 *   retry limit is below the queue's).
 */
export type Disposition =
  | { action: "retry"; delaySeconds: number }
  | { action: "exhausted"; delaySeconds: number }
  | { action: "dead_letter"; reason: "permanent" | "retries_exhausted" };

/** What to do with a message whose processing threw on attempt `attempt` (1-based). */
export function dispositionFor(
  err: unknown,
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): Disposition {
  if (err instanceof PermanentError || err instanceof ZodError) {
    return { action: "dead_letter", reason: "permanent" };
  }
  if (err instanceof PlatformError && err.kind === "permanent") {
    return { action: "dead_letter", reason: "permanent" };
  }
  const delaySeconds =
    err instanceof PlatformError && err.kind === "rate_limited"
      ? rateLimitSeconds(attempt, err.retryAfterSeconds)
      : backoffSeconds(attempt, policy.backoff, random);
  if (attempt <= policy.maxRetries) return { action: "retry", delaySeconds };
  return attempt > policy.queueMaxRetries
    ? { action: "exhausted", delaySeconds }
    : { action: "dead_letter", reason: "retries_exhausted" };
}
