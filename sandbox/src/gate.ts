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

/** Methods whose requests carry a body worth keeping even when it is empty. */
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH"]);

/**
 * The raw body, read from a clone before anything answers (a fault, a 401), so the handlers still
 * read the original. Bytes are decoded by hand: workerd warns when .text() meets a form body.
 */
async function rawBody(req: Request): Promise<string | null> {
  if (!req.body) return WRITE_METHODS.has(req.method) ? "" : null;
  return new TextDecoder().decode(await req.clone().arrayBuffer());
}

/**
 * Record every platform call (not control calls) with its final status, and keep the raw body of
 * every call that has one (OAuth included), however it was answered, so tests can check everything
 * a client ever sent (e.g. against XSDs).
 */
export function requestLog(platform: PlatformName): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const at = Date.now();
    const body = await rawBody(c.req.raw);
    await next();
    const url = new URL(c.req.url);
    const common = {
      at,
      method: c.req.method,
      path: url.pathname,
      status: c.res.status,
      idempotency_key: c.req.header("idempotency-key") ?? null,
      fault: c.get("fault") ?? null,
    };
    await platformState(c.env, platform).logRequest(
      { ...common, query: url.search },
      body === null
        ? null
        : { ...common, content_type: c.req.header("content-type") ?? null, body },
    );
  };
}

/** Latency and injected faults, then the bearer token, then the (optional) rate limit. */
export function apiGate(profile: PlatformProfile): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const decision = await platformState(c.env, profile.name).gate(
      bearerToken(c.req.header("authorization")),
      { bucket: "api", ...profile.rateLimit },
      new URL(c.req.url).pathname,
    );
    if (decision.latency_ms > 0) await sleep(decision.latency_ms);
    const outcome = decision.outcome;
    switch (outcome.type) {
      case "ok":
        c.set("account", outcome.client_id);
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
