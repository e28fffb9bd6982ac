import { base64ToBytes, bytesToBase64, bytesToHex, hexToBytes } from "../lib/encoding";

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

/**
 * Constant-time comparison of two MACs: the runtime's, so the time taken does not depend on where
 * the bytes differ. `timingSafeEqual` throws on unequal lengths; a MAC's length is public (every
 * candidate is checked to be 32 bytes already), so a length mismatch is just a mismatch.
 */
function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && crypto.subtle.timingSafeEqual(a, b);
}

const hexOrNull = (hex: string): Uint8Array | null => {
  try {
    return hexToBytes(hex);
  } catch {
    return null;
  }
};

/** The canonical, padded alphabet only: `atob` alone would also take whitespace and no padding. */
function canonicalBase64(b64: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return null;
  return base64ToBytes(b64);
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
  return `t=${timestampSeconds},v1=${bytesToHex(mac)}`;
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
      const mac = hexOrNull(value);
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
    if (candidates.some((c) => sameMac(c, expected))) return { ok: true, timestamp };
  }
  return { ok: false, reason: "signature_mismatch" };
}

/** Standard Webhooks secret: "whsec_" + base64 key bytes (the prefix is optional). */
function standardWebhookKey(secret: string): Uint8Array | null {
  return canonicalBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
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
  return `v1,${bytesToBase64(mac)}`;
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
    .map((s) => canonicalBase64(s.slice(3)))
    .filter((s): s is Uint8Array => s !== null && s.length === 32);
  if (candidates.length === 0) return { ok: false, reason: "signature_mismatch" };
  const signed = concat(encoder.encode(`${input.id}.${timestamp}.`), input.body);
  for (const secret of input.secrets) {
    const key = secret ? standardWebhookKey(secret) : null;
    if (!key) continue;
    const expected = await hmacSha256(key, signed);
    if (candidates.some((c) => sameMac(c, expected))) return { ok: true, timestamp };
  }
  return { ok: false, reason: "signature_mismatch" };
}
