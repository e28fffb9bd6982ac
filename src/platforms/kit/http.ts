import type { Platform } from "../ids";
import { PlatformError, type AdapterContext } from "../contract";

/**
 * The one way adapters talk HTTP: a timeout on every call, and every failure classified as a
 * PlatformError whose kind decides retry (transient, rate_limited), re-auth (auth) or dead letter
 * (permanent). Messages never carry tokens or secrets: they end up in D1, logs and alerts.
 */

export const DEFAULT_TIMEOUT_MS = 10_000;
const EXCERPT_CHARS = 200;
const SECRET_FORM_FIELDS = ["client_secret", "refresh_token", "code", "password"];
/** How platforms name a key already used for a different request (Airbnb, Stripe-style APIs). */
const IDEMPOTENCY_KEY_REUSED = /idempotency[_ -]?key[_ -]?(reused|mismatch)/i;

export interface FetchOptions {
  timeoutMs?: number;
}

type HttpContext = Pick<AdapterContext, "fetch" | "now" | "credentials">;

/** Join a configured base URL and an absolute path, tolerating a trailing slash on the base. */
export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, "") + path;
}

/** Fetch with a timeout; resolves only for 2xx, otherwise throws a classified PlatformError. */
export async function platformFetch(
  ctx: HttpContext,
  platform: Platform,
  url: string,
  init: RequestInit = {},
  options: FetchOptions = {},
): Promise<Response> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  const what = describeRequest(init.method, url);
  const secrets = secretsOf(ctx, init);

  let res: Response;
  try {
    // workerd refuses the global fetch called with another `this` ("Illegal invocation").
    res = await ctx.fetch.call(globalThis, url, { ...init, signal });
  } catch (err) {
    // Already classified (the ChannelGate holding a call for its rate limit or breaker): keep it.
    if (err instanceof PlatformError) throw err;
    const timedOut = timeout.aborted || isAbortError(err);
    const reason = timedOut
      ? `timed out after ${timeoutMs} ms`
      : `network error: ${redact(errorText(err), secrets)}`;
    throw new PlatformError(platform, "transient", `${what} ${reason}`);
  }
  if (res.ok) return res;
  throw await errorFromResponse(platform, what, res, ctx.now(), secrets);
}

/** Read a successful response's body; a broken or timed-out stream is transient. */
export async function readText(platform: Platform, res: Response): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    const reason = isAbortError(err) ? "timed out reading the body" : "body read failed";
    throw new PlatformError(platform, "transient", `${reason} (HTTP ${res.status})`, res.status);
  }
}

/** Read a JSON body; a body that is not JSON is a permanent failure (the contract is broken). */
export async function readJson(platform: Platform, res: Response): Promise<unknown> {
  const text = await readText(platform, res);
  try {
    return JSON.parse(text);
  } catch {
    throw new PlatformError(
      platform,
      "permanent",
      `response is not JSON: ${excerpt(text)}`,
      res.status,
    );
  }
}

async function errorFromResponse(
  platform: Platform,
  what: string,
  res: Response,
  nowMs: number,
  secrets: string[],
): Promise<PlatformError> {
  const status = res.status;
  // The body is only for the message; failing to read it must not change the classification.
  const body = redact(await res.text().catch(() => ""), secrets);
  const head = `${what} → HTTP ${status}`;
  if (status === 429) {
    const retryAfter = parseRetryAfter(res.headers.get("retry-after"), nowMs);
    return new PlatformError(platform, "rate_limited", head, status, retryAfter);
  }
  if (status >= 500) return new PlatformError(platform, "transient", head, status);
  if (status === 401 || status === 403) return new PlatformError(platform, "auth", head, status);
  const detail = excerpt(body);
  // The platform saw this Idempotency-Key with another body (Airbnb's 422
  // idempotency_key_reused). That refuses the key, not our data: the next attempt reads the
  // truth again and sends it under the key of its own content, so it is worth retrying soon,
  // not holding the night for the 15 minutes a permanent refusal waits.
  if (status >= 400 && status < 500 && IDEMPOTENCY_KEY_REUSED.test(body)) {
    return new PlatformError(platform, "transient", `${head}: ${detail}`, status);
  }
  return new PlatformError(platform, "permanent", detail ? `${head}: ${detail}` : head, status);
}

/**
 * Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). Returns whole seconds
 * from `nowMs`, never negative; undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** A short, single-line excerpt of a body for an error message. */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Remove secrets from text bound for a message: the known credentials and bearer token verbatim,
 * plus anything shaped like a token field, since a platform may echo what it was sent.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[redacted]");
  return out
    .replace(/(bearer\s+)[\w\-.~+/=]+/gi, "$1[redacted]")
    .replace(
      /("?(?:access_token|refresh_token|client_secret|id_token|token|password)"?\s*[:=]\s*"?)[^"&,\s}<]+/gi,
      "$1[redacted]",
    );
}

function secretsOf(ctx: HttpContext, init: RequestInit): string[] {
  const { clientSecret, refreshToken } = ctx.credentials;
  const auth = new Headers(init.headers).get("authorization");
  const bearer = auth?.replace(/^bearer\s+/i, "");
  const form = init.body instanceof URLSearchParams ? init.body : undefined;
  // Token requests carry secrets as form values; whatever was sent must not be echoed back.
  const sent = SECRET_FORM_FIELDS.map((k) => form?.get(k));
  return [clientSecret, refreshToken, bearer, ...sent].filter(isNonEmpty);
}

function isNonEmpty(s: string | undefined | null): s is string {
  return typeof s === "string" && s.length > 0;
}

/** "GET /v2/reservations/HM…" — method and path only; hosts and query strings stay out of logs. */
function describeRequest(method: string | undefined, url: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // A relative or odd URL is still fine to show as given.
  }
  return `${(method ?? "GET").toUpperCase()} ${path}`;
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}

function errorText(err: unknown): string {
  return excerpt(err instanceof Error ? err.message : String(err));
}
