import { env } from "cloudflare:workers";

/** The sandbox Worker; the project's vitest config routes this host to it. */
export const SB = "http://sandbox.test";

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function call(
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string; headers?: Record<string, string>; token?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${SB}${path}`, { method, headers, body });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // XML and empty bodies stay text.
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A control API call that must succeed. */
export async function control(method: string, path: string, body?: unknown): Promise<any> {
  const r = await call(method, path, body === undefined ? {} : { body });
  if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status}: ${r.text}`);
  return r.json;
}

export async function resetSandbox(): Promise<void> {
  await fetch(`${SB}/_sandbox/reset`, { method: "POST" });
}

/** A UTC date `offset` days from today. */
export function day(offset: number): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

let counter = 0;
export function uniqueDigits(length: number): string {
  counter += 1;
  return `${Date.now()}${counter}${Math.floor(Math.random() * 1e6)}`
    .slice(-length)
    .padStart(length, "1");
}

/** An access token of the host account the refresh token belongs to (default: `default`). */
export async function airbnbToken(
  refreshToken: string = env.AIRBNB_REFRESH_TOKEN,
): Promise<string> {
  const r = await call("POST", "/airbnb/oauth2/token", {
    raw: new URLSearchParams({
      grant_type: "refresh_token",
      client_id: env.AIRBNB_CLIENT_ID,
      client_secret: env.AIRBNB_CLIENT_SECRET,
      refresh_token: refreshToken,
    }).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  if (r.status !== 200) throw new Error(`airbnb token → ${r.status} ${r.text}`);
  return r.json.access_token as string;
}

/** A new Airbnb host account and an access token acting for it. */
export async function airbnbHost(): Promise<{ account: string; token: string }> {
  const { account, refresh_token } = await control("POST", "/_sandbox/airbnb/accounts", {});
  return { account, token: await airbnbToken(refresh_token) };
}

/** A fresh Beds24 account (its own credits and properties) and its token, via an invite code. */
export async function beds24Account(): Promise<{
  account: string;
  token: string;
  refreshToken: string;
}> {
  const { code, account } = await control("POST", "/_sandbox/beds24/invite-codes", {});
  const r = await call("GET", "/beds24/authentication/setup", { headers: { code } });
  if (r.status !== 200) throw new Error(`beds24 setup → ${r.status} ${r.text}`);
  return { account, token: r.json.token, refreshToken: r.json.refreshToken };
}

export async function bookingToken(): Promise<string> {
  const r = await call("POST", "/booking_com/oauth/token", {
    body: {
      grant_type: "client_credentials",
      client_id: env.BOOKING_COM_CLIENT_ID,
      client_secret: env.BOOKING_COM_CLIENT_SECRET,
    },
  });
  if (r.status !== 200) throw new Error(`booking token → ${r.status} ${r.text}`);
  return r.json.access_token as string;
}

/** Independent check of `t=<s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export async function verifySignature(
  secret: string,
  header: string,
  body: string,
): Promise<boolean> {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const mac = Uint8Array.from(match[2]!.match(/../g)!, (h) => parseInt(h, 16));
  return crypto.subtle.verify("HMAC", key, mac, new TextEncoder().encode(`${match[1]}.${body}`));
}

export interface Delivery {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  status?: number;
  error?: string;
  held?: boolean;
}
