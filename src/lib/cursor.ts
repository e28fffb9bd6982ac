import { base64urlToBytes, bytesToBase64url } from "./encoding";
import { ID_FORMAT } from "./ids";

/**
 * A keyset cursor: the (timestamp, id) of the last row of a page, opaque to clients as base64url
 * of "<ts>.<id>". `id` must look like one of our ids, so a forged cursor cannot smuggle text.
 */
export interface Cursor {
  ts: number;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return bytesToBase64url(new TextEncoder().encode(`${c.ts}.${c.id}`));
}

/** The cursor a previous page handed out, or null for anything else. */
export function decodeCursor(text: string): Cursor | null {
  let plain: string;
  try {
    plain = new TextDecoder().decode(base64urlToBytes(text));
  } catch {
    return null;
  }
  const m = /^(\d{1,16})\.(.+)$/.exec(plain);
  if (!m?.[1] || !m[2] || !ID_FORMAT.test(m[2])) return null;
  return { ts: Number(m[1]), id: m[2] };
}
