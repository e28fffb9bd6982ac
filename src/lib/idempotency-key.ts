import { bytesToHex } from "./encoding";

/**
 * The Idempotency-Key of a push: what the request says, so a retry after a lost answer repeats
 * the key exactly when it repeats the body. The body is read from D1 at push time, so a key made
 * of the marks alone (room type, dates, seq) could come back with another body after the night
 * changed without a new mark, and the platform refuses that (Airbnb: 422
 * `idempotency_key_reused`).
 *
 * Content alone is not enough either: a platform keeps a key for a day and answers it from memory
 * without applying it again, so a night pushed closed, then open, then closed again within the day
 * would not close the second time (a double-booking). The generation (the newest mark the request
 * carries; every mark gets a higher one) tells those apart; a retry of the same marks keeps it.
 */

/** Hex digits kept: 128 bits, far past any collision among a connection's requests. */
const KEY_HEX_DIGITS = 32;

export async function pushIdempotencyKey(
  connectionId: string,
  generation: number,
  content: string,
): Promise<string> {
  const input = new TextEncoder().encode(`${connectionId}\n${generation}\n${content}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
  return bytesToHex(digest).slice(0, KEY_HEX_DIGITS);
}
