import { z } from "zod";
import type { Platform } from "../ids";
import {
  PlatformError,
  type AdapterContext,
  type TokenGrant,
  type TokenKey,
  type TokenSource,
  type TokenStore,
} from "../contract";
import { platformFetch, readJson } from "./http";

export type { TokenGrant, TokenKey, TokenSource, TokenStore };

/**
 * Access tokens. `TokenStore` is where they live. In a ChannelGate (durable-objects/
 * channel-gate/tokens.ts) a connection with credentials of its own keeps its tokens encrypted in the
 * gate's storage, and a token of an account several connections share (`isSharedToken`) lives in
 * that account's TokenBroker (durable-objects/token-broker.ts), so they spend one mint budget.
 * Outside a gate (node tests, tools) the memory store below keeps them per token key in the isolate.
 *
 * - Reused until 60 s before expiry, so a call never leaves with a token about to lapse.
 * - Single-flight: concurrent callers await the same mint instead of each minting one
 *   (Booking.com allows at most 30 tokens per hour).
 * - An optional mint budget per rolling hour turns a runaway refresh loop into rate_limited.
 * - `withAccessToken` retries a call once with a fresh token after an "auth" failure; a second
 *   auth failure is the caller's to handle (credentials revoked, connection needs attention).
 *
 * Memory only: an evicted isolate mints again, which the budget tolerates.
 */

export const REFRESH_MARGIN_MS = 60_000;
/** The rolling window a mint budget counts over. */
export const MINT_BUDGET_WINDOW_MS = 3_600_000;

interface Entry {
  token?: { value: string; refreshAt: number };
  inflight?: Promise<string>;
  mintedAt: number[];
}

const cache = new Map<string, Entry>();

/** The identity of a token: whose it is, for which platform, app and API root. */
export function tokenKeyOf(source: TokenKey): string {
  return JSON.stringify([source.platform, source.baseUrl, source.clientId, source.account ?? ""]);
}

/** Just the key of a source (plain data, so it can cross RPC without the source's functions). */
export function tokenKeyFields(source: TokenKey): TokenKey {
  const { platform, baseUrl, clientId, account } = source;
  return { platform, baseUrl, clientId, ...(account !== undefined ? { account } : {}) };
}

/**
 * A key without an account is the Worker's own credentials: Booking.com's machine account, or the
 * app-level host refresh tokens (connection-config.ts sets `account` only for a connection's own
 * credentials). Every connection without credentials of its own shares that token and its budget.
 */
export function isSharedToken(key: TokenKey): boolean {
  return key.account === undefined;
}

function entryOf(key: string): Entry {
  let entry = cache.get(key);
  if (!entry) {
    entry = { mintedAt: [] };
    cache.set(key, entry);
  }
  return entry;
}

/** A valid access token: the cached one, the one being minted, or a new one. */
export function getAccessToken(source: TokenSource): Promise<string> {
  const entry = entryOf(tokenKeyOf(source));
  const now = source.now();
  if (entry.token && now < entry.token.refreshAt) return Promise.resolve(entry.token.value);
  entry.inflight ??= mintInto(entry, source).finally(() => {
    entry.inflight = undefined;
  });
  return entry.inflight;
}

async function mintInto(entry: Entry, source: TokenSource): Promise<string> {
  checkBudget(entry, source);
  // Lifetime counts from before the request: the platform's clock for the token started later.
  const requestedAt = source.now();
  entry.mintedAt.push(requestedAt);
  const grant = await source.mint();
  const lifetimeMs = Math.max(0, grant.expiresInSeconds * 1000 - REFRESH_MARGIN_MS);
  entry.token = { value: grant.accessToken, refreshAt: requestedAt + lifetimeMs };
  return grant.accessToken;
}

function checkBudget(entry: Entry, source: TokenSource): void {
  const now = source.now();
  entry.mintedAt = entry.mintedAt.filter((t) => t > now - MINT_BUDGET_WINDOW_MS);
  checkMintBudget(source, entry.mintedAt, now);
}

/** Throw rate_limited when `mintedAt` (mints of the last hour) already spends the budget. */
export function checkMintBudget(
  source: Pick<TokenSource, "platform" | "maxMintsPerHour">,
  mintedAt: number[],
  now: number,
): void {
  const recent = mintedAt.filter((t) => t > now - MINT_BUDGET_WINDOW_MS).sort((a, b) => a - b);
  const max = source.maxMintsPerHour;
  if (max === undefined || recent.length < max) return;
  const oldest = recent[0] ?? now;
  const retryAfter = Math.max(1, Math.ceil((oldest + MINT_BUDGET_WINDOW_MS - now) / 1000));
  throw new PlatformError(
    source.platform,
    "rate_limited",
    `token mint budget of ${max}/h spent`,
    undefined,
    retryAfter,
  );
}

/**
 * Forget `token` if it is still the cached one. A token another caller already replaced is left
 * alone, so two calls failing with the same stale token cause one mint, not two.
 */
export function invalidateAccessToken(source: TokenKey, token: string): void {
  const entry = cache.get(tokenKeyOf(source));
  if (entry?.token?.value === token) entry.token = undefined;
}

/** Isolate memory: tokens survive as long as the isolate does. */
export const memoryTokenStore: TokenStore = {
  getAccessToken: (source) => getAccessToken(source),
  invalidate: async (key, token) => invalidateAccessToken(key, token),
  currentRefreshToken: async (key, configured) => currentRefreshToken(key, configured),
  rememberRefreshToken: async (key, configured, latest) =>
    rememberRefreshToken(key, configured, latest),
};

/**
 * Run `call` with a token; when the platform refuses the token (401) drop it and retry exactly
 * once. A 403 is about the resource (another account's listing or hotel): a new token would not
 * change the answer.
 */
export async function withAccessToken<T>(
  source: TokenSource,
  call: (token: string) => Promise<T>,
  store: TokenStore = memoryTokenStore,
): Promise<T> {
  const token = await store.getAccessToken(source);
  try {
    return await call(token);
  } catch (err) {
    if (!(err instanceof PlatformError) || err.kind !== "auth" || err.status === 403) throw err;
    await store.invalidate(source, token);
    return call(await store.getAccessToken(source));
  }
}

// OAuth servers may rotate the refresh token on every use. The newest one is kept per key, tied to
// the configured token it descends from, so an operator re-authorising (a new configured token)
// takes over again.
const refreshTokens = new Map<string, { configured: string; latest: string }>();

/** The refresh token to use now: the latest rotated one, else the configured one. */
export function currentRefreshToken(key: TokenKey, configured: string): string {
  const known = refreshTokens.get(tokenKeyOf(key));
  return known?.configured === configured ? known.latest : configured;
}

export function rememberRefreshToken(key: TokenKey, configured: string, latest: string): void {
  refreshTokens.set(tokenKeyOf(key), { configured, latest });
}

/** Empty the cache (tests; a credentials rotation). */
export function resetTokenCache(): void {
  cache.clear();
  refreshTokens.clear();
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  refresh_token: z.string().min(1).optional(),
});

export interface TokenResponse extends TokenGrant {
  /** A rotated refresh token, when the server issues one. */
  refreshToken?: string;
}

/**
 * POST an OAuth 2.0 token request (form-encoded). A 400 here is invalid_grant / invalid_client:
 * the credentials need attention, so it is an "auth" failure rather than a permanent one.
 */
export async function requestToken(
  ctx: AdapterContext,
  platform: Platform,
  url: string,
  form: Record<string, string>,
): Promise<TokenResponse> {
  let res: Response;
  try {
    res = await platformFetch(ctx, platform, url, {
      method: "POST",
      body: new URLSearchParams(form),
    });
  } catch (err) {
    if (err instanceof PlatformError && err.kind === "permanent" && err.status === 400) {
      throw new PlatformError(platform, "auth", "token request refused (HTTP 400)", 400);
    }
    throw err;
  }
  const parsed = tokenResponseSchema.safeParse(await readJson(platform, res));
  if (!parsed.success) {
    throw new PlatformError(platform, "permanent", "malformed token response", res.status);
  }
  const { access_token, expires_in, refresh_token } = parsed.data;
  return {
    accessToken: access_token,
    expiresInSeconds: expires_in,
    ...(refresh_token ? { refreshToken: refresh_token } : {}),
  };
}

/** A platform call with `Authorization: Bearer`, retried once with a fresh token after "auth". */
export function authorisedFetch(
  ctx: AdapterContext,
  source: TokenSource,
  url: string,
  init: RequestInit,
): Promise<Response> {
  return withAccessToken(
    source,
    (token) => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${token}`);
      return platformFetch(ctx, source.platform, url, { ...init, headers });
    },
    ctx.tokens ?? memoryTokenStore,
  );
}
