import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { engineConfig } from "../../../src/config";
import { PlatformError } from "../../../src/platforms/contract";
import {
  backoffSeconds,
  DEFAULT_RETRY_POLICY,
  dispositionFor,
  PermanentError,
  retryPolicyFor,
} from "../../../src/queue/retry-policy";

const transient = new Error("HTTP 503");
const noJitter = () => 0;

describe("retry policy", () => {
  it("defaults to 1, 2, 4, 8, 16 s, then the last attempt still retries so the queue dead-letters it", () => {
    const policy = retryPolicyFor(engineConfig({}), "airbnb");
    expect(policy).toEqual(DEFAULT_RETRY_POLICY);
    const out = [1, 2, 3, 4, 5, 6].map((n) => dispositionFor(transient, n, policy, noJitter));
    expect(out).toEqual([
      { action: "retry", delaySeconds: 1 },
      { action: "retry", delaySeconds: 2 },
      { action: "retry", delaySeconds: 4 },
      { action: "retry", delaySeconds: 8 },
      { action: "retry", delaySeconds: 16 },
      { action: "exhausted", delaySeconds: 16 },
    ]);
  });

  it("takes base, factor, cap, jitter and max retries from Worker vars", () => {
    const config = engineConfig({
      RETRY_BASE_SECONDS: "3",
      RETRY_FACTOR: "3",
      RETRY_CAP_SECONDS: "50",
      RETRY_JITTER: "0",
      MAX_RETRIES: "4",
    });
    expect(config.backoff).toEqual({ baseSeconds: 3, factor: 3, capSeconds: 50, jitter: 0 });
    expect(config.maxRetries).toBe(4);
    const policy = retryPolicyFor(config, "airbnb");
    // Jitter 0: the random draw does not matter.
    const delays = [1, 2, 3, 4, 5].map((n) => dispositionFor(transient, n, policy, () => 0.99));
    expect(delays).toEqual([
      { action: "retry", delaySeconds: 3 },
      { action: "retry", delaySeconds: 9 },
      { action: "retry", delaySeconds: 27 },
      { action: "retry", delaySeconds: 50 },
      { action: "exhausted", delaySeconds: 50 },
    ]);
  });

  it("ignores malformed vars (falls back to the defaults)", () => {
    const config = engineConfig({
      RETRY_BASE_SECONDS: "soon",
      RETRY_FACTOR: "0.5",
      RETRY_JITTER: "-1",
      MAX_RETRIES: "2.5",
    });
    expect(config.backoff).toEqual(engineConfig({}).backoff);
    expect(config.maxRetries).toBe(5);
  });

  it("lets one platform retry less, dead-lettering it directly; never more than the queue allows", () => {
    const config = engineConfig({ MAX_RETRIES_BOOKING_COM: "2", MAX_RETRIES_AIRBNB: "9" });
    expect(config.maxRetriesByPlatform.booking_com).toBe(2);
    expect(config.maxRetriesByPlatform.airbnb).toBe(5);
    expect(config.maxRetriesByPlatform.expedia).toBe(5);
    const booking = retryPolicyFor(config, "booking_com");
    expect(dispositionFor(transient, 2, booking, noJitter)).toEqual({
      action: "retry",
      delaySeconds: 2,
    });
    // The queue would retry again (its max_retries is 5), so the consumer dead-letters it itself.
    expect(dispositionFor(transient, 3, booking, noJitter)).toEqual({
      action: "dead_letter",
      reason: "retries_exhausted",
    });
  });

  it("honours Retry-After, else backs off 60, 300, 900 s on a rate limit", () => {
    const limited = (after?: number) =>
      new PlatformError("airbnb", "rate_limited", "HTTP 429", 429, after);
    expect(dispositionFor(limited(42), 1)).toEqual({ action: "retry", delaySeconds: 42 });
    expect([1, 2, 3, 4].map((n) => dispositionFor(limited(), n))).toEqual([
      { action: "retry", delaySeconds: 60 },
      { action: "retry", delaySeconds: 300 },
      { action: "retry", delaySeconds: 900 },
      { action: "retry", delaySeconds: 900 },
    ]);
  });

  it("sends permanent errors straight to the dead letters, spending no retry", () => {
    for (const err of [
      new PermanentError("cross-tenant booking"),
      new PlatformError("airbnb", "permanent", "HTTP 404", 404),
    ]) {
      expect(dispositionFor(err, 1)).toEqual({ action: "dead_letter", reason: "permanent" });
    }
  });

  it("spreads retries: the delay stays within [backoff, backoff × (1 + jitter)]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const policy = DEFAULT_RETRY_POLICY.backoff;
          const exp = Math.min(16, 2 ** (attempt - 1));
          const delay = backoffSeconds(attempt, policy, () => r);
          expect(delay).toBeGreaterThanOrEqual(exp);
          expect(delay).toBeLessThanOrEqual(Math.ceil(exp * 1.5));
        },
      ),
    );
  });
});
