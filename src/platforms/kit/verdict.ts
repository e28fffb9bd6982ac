import { PlatformError, type MappingVerdict } from "../contract";

/**
 * A platform's "no" to a mapping check: it does not know the id (404) or will not let this
 * account see or write it (403). Anything else that fails — the platform unreachable, a 5xx, a
 * rate limit — is not an answer about the id, so it is rethrown and the mapping stays pending.
 */
export function refusalOf(err: unknown, what: string): MappingVerdict {
  if (err instanceof PlatformError && (err.status === 403 || err.status === 404)) {
    return { confirmed: false, reason: `${what}: the platform answered HTTP ${err.status}` };
  }
  throw err;
}

export const CONFIRMED: MappingVerdict = { confirmed: true };

export function notConfirmed(reason: string): MappingVerdict {
  return { confirmed: false, reason };
}
