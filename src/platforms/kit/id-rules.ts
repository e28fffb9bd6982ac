import type { ExternalIdRule } from "../contract";

/**
 * The building blocks of the platforms' id rules (each module's `externalIds`). The length bounds
 * are the engine's own generous limits, not published ones: they exist to catch pasted names,
 * URLs and typos, not to second-guess the platform. Pure: no I/O; the check itself is exact.
 */

/** Only ASCII digits, between `min` and `max` of them. */
export function isDigits(value: string, min: number, max: number): boolean {
  return value.length >= min && value.length <= max && /^[0-9]+$/.test(value);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in its canonical 8-4-4-4-12 hex form (any version, either case). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Google's partner ids: 1–64 of A–Z, a–z, 0–9, "_" and "-". */
export function isPartnerId(value: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(value);
}

export const MAX_FEED_URL_LENGTH = 2048;

/**
 * An iCal feed address: an absolute https:// URL with a host, no user:password@ part, no spaces,
 * at most 2048 characters.
 */
export function isHttpsFeedUrl(value: string): boolean {
  if (value.length > MAX_FEED_URL_LENGTH || /\s/.test(value)) return false;
  if (!/^https:\/\//i.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === "https:" && url.hostname !== "" && !url.username && !url.password;
}

/** Whether `value` is one of Beds24's daily price slots, "1" … "16" (price1 … price16). */
export function isPriceSlot(value: string): boolean {
  return /^(?:[1-9]|1[0-6])$/.test(value);
}

export const digits = (
  rule: string,
  min: number,
  max: number,
  example: string,
): ExternalIdRule => ({
  rule,
  example,
  test: (id) => isDigits(id, min, max),
});

/** A mapping the platform has no id for: the rule says why, and every id fails it. */
export const none = (rule: string): ExternalIdRule => ({ rule, example: null, test: () => false });

export const listingOrUuid = (rule: string, example: string): ExternalIdRule => ({
  rule,
  example,
  test: (id) => isDigits(id, 1, 20) || isUuid(id),
});

export const partnerId = (rule: string, example: string): ExternalIdRule => ({
  rule,
  example,
  test: isPartnerId,
});
