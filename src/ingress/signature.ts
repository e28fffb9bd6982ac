/**
 * Webhook signatures, verified over the raw bytes before anything is parsed.
 *
 * OTA scheme (Airbnb `X-Airbnb-Signature`, Booking.com `X-Booking-Signature`):
 *   header  = "t=<unix seconds>,v1=<hex HMAC-SHA256>"  (several v1= entries allowed)
 *   signed  = "<t>.<raw body>"
 * Standard Webhooks (the PMS): headers webhook-id, webhook-timestamp, webhook-signature
 *   ("v1,<base64>" entries, space separated), signed = "<id>.<timestamp>.<raw body>".
 * Both refuse timestamps outside ±tolerance (replays) and compare in constant time; every configured
 * secret is tried, so the previous secret keeps working while a rotation rolls out.
 */

export type SignatureFailure =
  | "missing_signature"
  | "malformed_signature"
  | "stale_timestamp"
  | "future_timestamp"
  | "signature_mismatch";

export type VerifyResult =
  { ok: true; timestamp: number } | { ok: false; reason: SignatureFailure };

const encoder = new TextEncoder();

async function hmacSha256(secret: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    secret,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Constant-time comparison: the time taken does not depend on where the bytes differ. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array | null {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function fromBase64(b64: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return null;
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function checkTimestamp(
  t: number,
  nowSeconds: number,
  toleranceSeconds: number,
): SignatureFailure | null {
  if (t < nowSeconds - toleranceSeconds) return "stale_timestamp";
  if (t > nowSeconds + toleranceSeconds) return "future_timestamp";
  return null;
}

/** Sign for the OTA scheme; used by tests, the demo and the sandbox's tooling. */
export async function signOtaWebhook(
  secret: string,
  timestampSeconds: number,
  body: Uint8Array | string,
): Promise<string> {
  const raw = typeof body === "string" ? encoder.encode(body) : body;
  const mac = await hmacSha256(
    encoder.encode(secret),
    concat(encoder.encode(`${timestampSeconds}.`), raw),
  );
  return `t=${timestampSeconds},v1=${toHex(mac)}`;
}

export async function verifyOtaWebhook(input: {
  header: string | null | undefined;
  body: Uint8Array;
  secrets: readonly string[];
  nowSeconds: number;
  toleranceSeconds: number;
}): Promise<VerifyResult> {
  const header = input.header?.trim();
  if (!header) return { ok: false, reason: "missing_signature" };
  let timestamp: number | null = null;
  const candidates: Uint8Array[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return { ok: false, reason: "malformed_signature" };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (!/^\d{1,12}$/.test(value)) return { ok: false, reason: "malformed_signature" };
      timestamp = Number(value);
    } else if (key === "v1") {
      const mac = fromHex(value);
      if (!mac || mac.length !== 32) return { ok: false, reason: "malformed_signature" };
      candidates.push(mac);
    }
  }
  if (timestamp === null || candidates.length === 0) {
    return { ok: false, reason: "malformed_signature" };
  }
  const timeFailure = checkTimestamp(timestamp, input.nowSeconds, input.toleranceSeconds);
  if (timeFailure) return { ok: false, reason: timeFailure };
  const signed = concat(encoder.encode(`${timestamp}.`), input.body);
  for (const secret of input.secrets) {
    if (!secret) continue;
    const expected = await hmacSha256(encoder.encode(secret), signed);
    if (candidates.some((c) => timingSafeEqual(c, expected))) return { ok: true, timestamp };
  }
  return { ok: false, reason: "signature_mismatch" };
}

/** Standard Webhooks secret: "whsec_" + base64 key bytes (the prefix is optional). */
function standardWebhookKey(secret: string): Uint8Array | null {
  return fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
}

export async function signStandardWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Promise<string> {
  const key = standardWebhookKey(secret);
  if (!key) throw new Error("invalid Standard Webhooks secret");
  const mac = await hmacSha256(key, encoder.encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(mac)}`;
}

export async function verifyStandardWebhook(input: {
  id: string | null | undefined;
  timestamp: string | null | undefined;
  signature: string | null | undefined;
  body: Uint8Array;
  secrets: readonly string[];
  nowSeconds: number;
  toleranceSeconds: number;
}): Promise<VerifyResult> {
  if (!input.id || !input.timestamp || !input.signature) {
    return { ok: false, reason: "missing_signature" };
  }
  if (!/^\d{1,12}$/.test(input.timestamp)) return { ok: false, reason: "malformed_signature" };
  const timestamp = Number(input.timestamp);
  const timeFailure = checkTimestamp(timestamp, input.nowSeconds, input.toleranceSeconds);
  if (timeFailure) return { ok: false, reason: timeFailure };
  const candidates = input.signature
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .map((s) => fromBase64(s.slice(3)))
    .filter((s): s is Uint8Array => s !== null && s.length === 32);
  if (candidates.length === 0) return { ok: false, reason: "signature_mismatch" };
  const signed = concat(encoder.encode(`${input.id}.${timestamp}.`), input.body);
  for (const secret of input.secrets) {
    const key = secret ? standardWebhookKey(secret) : null;
    if (!key) continue;
    const expected = await hmacSha256(key, signed);
    if (candidates.some((c) => timingSafeEqual(c, expected))) return { ok: true, timestamp };
  }
  return { ok: false, reason: "signature_mismatch" };
}
