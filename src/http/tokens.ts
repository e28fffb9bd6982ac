import { bytesToBase64url, bytesToHex } from "../lib/encoding";

/** `cm_` + 32 random bytes (base64url): unguessable, so a plain SHA-256 is enough to store it. */
export function generateApiToken(): string {
  return `cm_${bytesToBase64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export const API_TOKEN_FORMAT = /^cm_[A-Za-z0-9_-]{43}$/;

export async function hashApiToken(token: string): Promise<string> {
  return bytesToHex(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))),
  );
}

/** What a person may see of a token after it was created. */
export function tokenPrefix(token: string): string {
  return token.slice(0, 9);
}
