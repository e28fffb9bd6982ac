/**
 * Bytes as text, in one place: base64 (raw webhook bodies on the queues, credential ciphertexts,
 * Standard Webhooks signatures), base64url without padding (API tokens, page cursors) and
 * lower-case hex (OTA signatures, token hashes, Idempotency-Keys).
 *
 * Built on `btoa`/`atob`, which both runtimes have: `Uint8Array.prototype.toBase64`/`fromHex` are
 * not in Node 20, where the node tests run. The decoders throw on malformed input, as `atob` does.
 */

// String.fromCharCode(...chunk) keeps a large body (a 64 KiB webhook) off a per-byte string concat
// without passing more arguments than a call may take.
const CHUNK = 0x8000;

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(bin);
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** RFC 4648 §5, unpadded. */
export function bytesToBase64url(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Accepts what `bytesToBase64url` writes (and, like `atob`, missing padding). */
export function base64urlToBytes(text: string): Uint8Array {
  return base64ToBytes(text.replaceAll("-", "+").replaceAll("_", "/"));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Pairs of hex digits, either case; anything else throws. */
export function hexToBytes(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) throw new TypeError("not a hex string");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
