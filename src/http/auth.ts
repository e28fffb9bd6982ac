import { createMiddleware } from "hono/factory";
import type { TokenRole } from "../store/schema/tenancy.schema";
import { markTokenUsed, tokenByHash } from "../store/tenants";
import { ApiError } from "./errors";
import { API_TOKEN_FORMAT, hashApiToken } from "./tokens";
import { unknownTokens } from "./unknown-tokens";

export interface AuthContext {
  tenantId: string;
  tokenId: string;
  role: TokenRole;
}

type AuthEnv = { Bindings: Env; Variables: { auth: AuthContext } };

function bearer(header: string | undefined): string {
  if (!header)
    throw new ApiError(401, "missing_token", "Authorization: Bearer <token> is required");
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!m?.[1]) throw new ApiError(401, "malformed_token", "Authorization must be 'Bearer <token>'");
  return m[1];
}

/** Every admin route: a live tenant token; the tenant it names scopes every query after it. */
export const requireTenantAuth = createMiddleware<AuthEnv>(async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  if (!API_TOKEN_FORMAT.test(token)) {
    throw new ApiError(401, "malformed_token", "the bearer token is not an API token");
  }
  const hash = await hashApiToken(token);
  const invalid = () => new ApiError(401, "invalid_token", "the token is not valid");
  if (unknownTokens.has(hash)) throw invalid();
  const row = await tokenByHash(c.env.DB, hash);
  if (!row) {
    unknownTokens.add(hash);
    throw invalid();
  }
  if (row.revokedAt !== null) throw new ApiError(401, "revoked_token", "the token was revoked");
  c.set("auth", { tenantId: row.tenantId, tokenId: row.id, role: row.role });
  // Bookkeeping, off the response path.
  c.executionCtx.waitUntil(markTokenUsed(c.env.DB, row.id, Date.now()).catch(() => undefined));
  await next();
});

/** Writes need an admin token; read-only tokens may only read. */
export const requireAdmin = createMiddleware<AuthEnv>(async (c, next) => {
  if (c.var.auth?.role !== "admin") {
    throw new ApiError(403, "forbidden", "this needs an admin token; the token is read-only");
  }
  await next();
});

const sha256 = async (text: string) =>
  crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));

/**
 * Constant-time, so the answer's timing tells nothing about how much of a guess was right. The
 * digests are compared, not the strings: `timingSafeEqual` needs equal lengths, and comparing
 * lengths first would tell a prober the secret's length.
 */
async function matchesSecret(token: string, expected: string | undefined): Promise<boolean> {
  if (!expected) return false;
  const [a, b] = await Promise.all([sha256(token), sha256(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** The operator (whoever runs the engine) creates tenants with the OPERATOR_TOKEN secret. */
export const requireOperator = createMiddleware<AuthEnv>(async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  if (!(await matchesSecret(token, c.env.OPERATOR_TOKEN))) {
    throw new ApiError(401, "invalid_token", "the operator token is not valid");
  }
  await next();
});

/** GET /metrics: a scraper with the METRICS_TOKEN secret. */
export const requireMetricsToken = createMiddleware<AuthEnv>(async (c, next) => {
  // Not configured means not exposed: the same 404 as a route that does not exist, so a
  // deployment without the secret does not even show the endpoint. A 401 would tell a prober
  // there is a token to guess; a 503 would read as an outage when it is a choice.
  if (!c.env.METRICS_TOKEN) {
    throw new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`);
  }
  const token = bearer(c.req.header("authorization"));
  if (!(await matchesSecret(token, c.env.METRICS_TOKEN))) {
    throw new ApiError(401, "invalid_token", "the metrics token is not valid");
  }
  await next();
});
