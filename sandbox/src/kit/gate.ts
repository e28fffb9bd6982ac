import type { Context, MiddlewareHandler, Next } from "hono";
import { platformState } from "../platform-state";
import type { AppEnv } from "./app-env";
import { bearerToken, sleep } from "./http";
import type { ApiErrorKind, ApiProfile } from "./simulator";
import type { GateDecision, PlatformName } from "./store/types";

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

/** Why the gate refused a call; `enforced` tells the published limit from an injected 429. */
export type Refusal =
  | { kind: Exclude<ApiErrorKind, "rate_limited">; status: number }
  | { kind: "rate_limited"; status: 429; enforced: boolean };

/**
 * Carry out a gate decision: its latency, then go on (noting the account) or refuse in the
 * platform's words, noting the fault for the request log. An injected timeout hangs like an
 * overloaded upstream first; the client is expected to give up before.
 */
export async function answerDecision(
  c: Context<AppEnv>,
  decision: GateDecision,
  next: Next,
  refuse: (r: Refusal) => Response,
  beforeAnswer: () => void = () => {},
): Promise<Response | void> {
  if (decision.latency_ms > 0) await sleep(decision.latency_ms);
  beforeAnswer();
  const outcome = decision.outcome;
  switch (outcome.type) {
    case "ok":
      c.set("account", outcome.client_id);
      return next();
    case "unauthorized":
      return refuse({ kind: "unauthorized", status: 401 });
    case "rate_limited":
      c.set("fault", "enforced_rate_limit");
      c.header("Retry-After", String(outcome.retry_after));
      return refuse({ kind: "rate_limited", status: 429, enforced: true });
    case "fault":
      c.set("fault", outcome.fault);
      if (outcome.fault === "timeout") {
        await sleep(outcome.hang_ms ?? 20_000);
        return refuse({ kind: "timeout", status: 504 });
      }
      if (outcome.status === 429) {
        c.header("Retry-After", String(outcome.retry_after ?? 1));
        return refuse({ kind: "rate_limited", status: 429, enforced: false });
      }
      return refuse({ kind: "unavailable", status: outcome.status });
  }
}

const MESSAGES: Record<ApiErrorKind, string> = {
  unauthorized: "Missing, unknown or expired access token",
  rate_limited: "Rate limit exceeded",
  unavailable: "Service temporarily unavailable",
  timeout: "Upstream timed out",
};

/** Latency and injected faults, then the bearer token, then the (optional) rate limit. */
export function apiGate(profile: ApiProfile): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const decision = await platformState(c.env, profile.name).gate(
      bearerToken(c.req.header("authorization")),
      { bucket: "api", ...profile.rateLimit },
      new URL(c.req.url).pathname,
    );
    return answerDecision(c, decision, next, (r) =>
      profile.error(c, r.kind, r.status, MESSAGES[r.kind]),
    );
  };
}

/**
 * Authentication calls (token endpoints) take the injected latency but no other fault: a client
 * must still be able to get a token while the API it guards fails.
 */
export async function authLatency(env: Env, platform: PlatformName): Promise<void> {
  const faults = await platformState(env, platform).getFaults();
  if (faults.latency_ms > 0) await sleep(faults.latency_ms);
}
