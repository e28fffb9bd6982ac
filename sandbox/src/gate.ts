import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env";
import { bearerToken, sleep } from "./lib/http";
import { platformState } from "./state/platform-state";
import type { PlatformName } from "./state/types";

export type ApiErrorKind = "unauthorized" | "rate_limited" | "unavailable" | "timeout";

/** How one platform answers errors that happen before its handlers run. */
export interface PlatformProfile {
  name: PlatformName;
  /** The published limit, enforced only when the enforce_rate_limit switch is on. */
  rateLimit: { limit: number; windowMs: number };
  error(c: Context<AppEnv>, kind: ApiErrorKind, status: number, message: string): Response;
}

/** Record every platform call (not control calls) with its final status. */
export function requestLog(platform: PlatformName): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const at = Date.now();
    await next();
    const url = new URL(c.req.url);
    await platformState(c.env, platform).logRequest({
      at,
      method: c.req.method,
      path: url.pathname,
      query: url.search,
      status: c.res.status,
      idempotency_key: c.req.header("idempotency-key") ?? null,
      fault: c.get("fault") ?? null,
    });
  };
}

/** Keep the raw body of a write call, so tests can check what the engine sent (e.g. against XSDs). */
export async function storeRawBody(
  c: Context<AppEnv>,
  platform: PlatformName,
  body: string,
): Promise<void> {
  await platformState(c.env, platform).storeReceived({
    at: Date.now(),
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    content_type: c.req.header("content-type") ?? null,
    body,
  });
}

/** Latency and injected faults, then the bearer token, then the (optional) rate limit. */
export function apiGate(profile: PlatformProfile): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const decision = await platformState(c.env, profile.name).gate(
      bearerToken(c.req.header("authorization")),
      { bucket: "api", ...profile.rateLimit },
    );
    if (decision.latency_ms > 0) await sleep(decision.latency_ms);
    const outcome = decision.outcome;
    switch (outcome.type) {
      case "ok":
        return next();
      case "unauthorized":
        return profile.error(c, "unauthorized", 401, "Missing, unknown or expired access token");
      case "rate_limited":
        c.set("fault", "enforced_rate_limit");
        c.header("Retry-After", String(outcome.retry_after));
        return profile.error(c, "rate_limited", 429, "Rate limit exceeded");
      case "fault":
        c.set("fault", outcome.fault);
        if (outcome.fault === "timeout") {
          // Hang like an overloaded upstream; the client is expected to give up first.
          await sleep(outcome.hang_ms ?? 20_000);
          return profile.error(c, "timeout", 504, "Upstream timed out");
        }
        if (outcome.status === 429) {
          c.header("Retry-After", String(outcome.retry_after ?? 1));
          return profile.error(c, "rate_limited", 429, "Rate limit exceeded");
        }
        return profile.error(c, "unavailable", outcome.status, "Service temporarily unavailable");
    }
  };
}
