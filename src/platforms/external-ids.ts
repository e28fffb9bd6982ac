import type { Platform } from "./ids";
import type { ExternalIdRule, MappingType } from "./contract";
import { PLATFORM_MODULES } from "./registry";

export {
  isDigits,
  isHttpsFeedUrl,
  isPartnerId,
  isPriceSlot,
  isUuid,
  MAX_FEED_URL_LENGTH,
} from "./kit/id-rules";
export type { ExternalIdRule, MappingType };

/**
 * The format of a platform's own id for each kind of mapping, checked before a channel mapping is
 * stored (a wrong id would otherwise only show up as pushes the platform rejects, or as bookings
 * that never resolve). One rule per platform × mapping type; `rule` is the sentence an API error
 * shows, so it names the platform, the id and what it must look like.
 *
 * | platform    | property                         | room_type                          | rate_plan                    |
 * | ----------- | -------------------------------- | ---------------------------------- | ---------------------------- |
 * | airbnb      | listing id, 1–20 digits          | listing id, 1–20 digits            | — (priced per listing)       |
 * | booking_com | hotel id, 1–10 digits            | room id, 1–12 digits               | rate plan id, 1–12 digits    |
 * | expedia     | hotel id, 1–10 digits            | room type id, 1–12 digits          | rate plan id, 1–12 digits    |
 * | fewo_direkt | listing id, 1–20 digits or UUID  | listing id, 1–20 digits or UUID    | — (priced per listing)       |
 * | google      | partner hotel id, [A-Za-z0-9_-]{1,64} | room id (InvTypeCode), same   | rate plan id (RatePlanCode), same |
 * | beds24      | property id (propId), 1–10 digits | room id (roomId), 1–10 digits     | daily price slot 1–16        |
 * | ical        | — (feeds are per listing)        | https:// URL of the platform feed  | — (iCal carries no prices)   |
 *
 * Sources: shared/PROTOCOLS.md says which ids exist (Airbnb listing ids are numeric; Expedia uses
 * its own hotel/room/rate ids; Google's ids are the partner's own and for vacation rentals
 * InvTypeCode equals HotelCode; Beds24 has propId/roomId and price1… price slots; iCal is one feed
 * per listing). The length bounds are the engine's own generous limits, not published ones: they
 * exist to catch pasted names, URLs and typos, not to second-guess the platform. A "—" cell is a
 * mapping the platform has no id for; its rule says why, and every id fails it.
 *
 * Ownership: a platform id is live in at most one mapping across every tenant (the database's
 * channel_mappings_owner_uq). Most ids are unique on the whole platform (listing, hotel, room and
 * rate ids); a few only within one property — Google's room and rate codes are the partner's own
 * per hotel, and a Beds24 price slot is "1"…"16" in every room — so those are unique per
 * connection instead (`scope: "connection"`).
 *
 * Each rule is declared by its platform's module (src/platforms/<platform>/index.ts, built from
 * src/platforms/kit/id-rules.ts); this file is the lookup. Pure: no I/O. The API trims the id
 * before checking; the check itself is exact.
 */

export type ExternalIdCheck = { ok: true } | { ok: false; rule: string };

const byPlatform = <T>(pick: (m: (typeof PLATFORM_MODULES)[number]) => T): Record<Platform, T> =>
  Object.fromEntries(PLATFORM_MODULES.map((m) => [m.id, pick(m)])) as Record<Platform, T>;

/** Display names used in the rule sentences. */
export const PLATFORM_NAMES: Readonly<Record<Platform, string>> = byPlatform((m) => m.displayName);

/** What a platform calls each kind of id, for messages ("this listing cannot be mapped"). */
export const ID_NOUNS: Readonly<Record<Platform, Readonly<Record<MappingType, string>>>> =
  byPlatform((m) => m.idNouns);

/** The rules table (see the file comment). */
export const EXTERNAL_ID_RULES: Readonly<
  Record<Platform, Readonly<Record<MappingType, ExternalIdRule>>>
> = byPlatform((m) => m.externalIds);

/** Whether the platform has ids of this kind at all (false for the "—" cells of the table). */
export function supportsMappingType(platform: Platform, mappingType: MappingType): boolean {
  return EXTERNAL_ID_RULES[platform][mappingType].example !== null;
}

/** Check a platform id against its rule; on failure the rule sentence says what was expected. */
export function checkExternalId(
  platform: Platform,
  mappingType: MappingType,
  externalId: string,
): ExternalIdCheck {
  const rule = EXTERNAL_ID_RULES[platform][mappingType];
  return rule.test(externalId) ? { ok: true } : { ok: false, rule: rule.rule };
}

/**
 * The `external_scope` a mapping's id is unique within: '' for ids unique on the whole platform,
 * the connection's id for ids scoped to one property.
 */
export function externalScope(
  platform: Platform,
  mappingType: MappingType,
  connectionId: string,
): string {
  return EXTERNAL_ID_RULES[platform][mappingType].scope === "connection" ? connectionId : "";
}

/** The rules table as Markdown lines, for the API reference (`external_id`'s description). */
export function externalIdRulesMarkdown(): string {
  const lines = Object.entries(EXTERNAL_ID_RULES).flatMap(([platform, byType]) =>
    Object.entries(byType).map(([type, r]) => `- ${platform} ${type}: ${r.rule}`),
  );
  return lines.join("\n");
}
