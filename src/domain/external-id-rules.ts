import type { MAPPING_TYPES, Platform } from "../db/channels.schema";

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
 * Pure: no I/O. The API trims the id before checking; the check itself is exact.
 */

export type MappingType = (typeof MAPPING_TYPES)[number];

export type ExternalIdCheck = { ok: true } | { ok: false; rule: string };

export interface ExternalIdRule {
  /** The rule as a sentence, e.g. "Airbnb listing ids are 1–20 digits". */
  readonly rule: string;
  /** A valid id, for the docs; null where no id can be mapped. */
  readonly example: string | null;
  /** Whether the id has the platform's format. */
  readonly test: (externalId: string) => boolean;
  /** Where the id is unique: the whole platform (default) or one connection's property. */
  readonly scope?: "connection";
}

/** Display names used in the rule sentences. */
export const PLATFORM_NAMES: Readonly<Record<Platform, string>> = {
  airbnb: "Airbnb",
  booking_com: "Booking.com",
  expedia: "Expedia",
  fewo_direkt: "FeWo-direkt/Vrbo",
  google: "Google",
  beds24: "Beds24",
  ical: "iCal",
};

/** What a platform calls each kind of id, for messages ("this listing cannot be mapped"). */
export const ID_NOUNS: Readonly<Record<Platform, Readonly<Record<MappingType, string>>>> = {
  airbnb: { property: "listing", room_type: "listing", rate_plan: "rate plan" },
  booking_com: { property: "hotel", room_type: "room", rate_plan: "rate plan" },
  expedia: { property: "hotel", room_type: "room type", rate_plan: "rate plan" },
  fewo_direkt: { property: "listing", room_type: "listing", rate_plan: "rate plan" },
  google: { property: "hotel", room_type: "room", rate_plan: "rate plan" },
  beds24: { property: "property", room_type: "room", rate_plan: "price slot" },
  ical: { property: "property", room_type: "feed", rate_plan: "rate plan" },
};

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

const digits = (rule: string, min: number, max: number, example: string): ExternalIdRule => ({
  rule,
  example,
  test: (id) => isDigits(id, min, max),
});

const none = (rule: string): ExternalIdRule => ({ rule, example: null, test: () => false });

const listingOrUuid = (rule: string, example: string): ExternalIdRule => ({
  rule,
  example,
  test: (id) => isDigits(id, 1, 20) || isUuid(id),
});

const partnerId = (rule: string, example: string): ExternalIdRule => ({
  rule,
  example,
  test: isPartnerId,
});

/** The rules table (see the file comment). */
export const EXTERNAL_ID_RULES: Readonly<
  Record<Platform, Readonly<Record<MappingType, ExternalIdRule>>>
> = {
  airbnb: {
    property: digits("Airbnb property ids are listing ids: 1–20 digits", 1, 20, "53170118"),
    room_type: digits("Airbnb listing ids are 1–20 digits", 1, 20, "53170118"),
    rate_plan: none(
      "Airbnb has no rate plan ids: prices are set per listing, so map the room type only",
    ),
  },
  booking_com: {
    property: digits("Booking.com hotel ids are 1–10 digits", 1, 10, "1234567"),
    room_type: digits("Booking.com room ids are 1–12 digits", 1, 12, "123456701"),
    rate_plan: digits("Booking.com rate plan ids are 1–12 digits", 1, 12, "20345678"),
  },
  expedia: {
    property: digits("Expedia hotel ids are 1–10 digits", 1, 10, "4567890"),
    room_type: digits("Expedia room type ids are 1–12 digits", 1, 12, "201234567"),
    rate_plan: digits("Expedia rate plan ids are 1–12 digits", 1, 12, "208765432"),
  },
  fewo_direkt: {
    property: listingOrUuid(
      "FeWo-direkt/Vrbo property ids are listing ids: 1–20 digits or a UUID",
      "3212345",
    ),
    room_type: listingOrUuid(
      "FeWo-direkt/Vrbo listing ids are 1–20 digits or a UUID",
      "c0a8012e-7d4f-4a51-9b1e-2f3d4c5b6a79",
    ),
    rate_plan: none(
      "FeWo-direkt/Vrbo has no rate plan ids: prices are set per listing, so map the room type only",
    ),
  },
  google: {
    property: partnerId(
      "Google hotel ids are your own partner ids: 1–64 letters, digits, '_' or '-'",
      "alpine-stays_42",
    ),
    room_type: {
      ...partnerId(
        "Google room ids (InvTypeCode) are 1–64 letters, digits, '_' or '-'",
        "double_sea_view",
      ),
      scope: "connection",
    },
    rate_plan: {
      ...partnerId(
        "Google rate plan ids (RatePlanCode) are 1–64 letters, digits, '_' or '-'",
        "flex-bb",
      ),
      scope: "connection",
    },
  },
  beds24: {
    property: digits("Beds24 property ids (propId) are 1–10 digits", 1, 10, "123456"),
    room_type: digits("Beds24 room ids (roomId) are 1–10 digits", 1, 10, "246810"),
    rate_plan: {
      rule: "Beds24 rate plans are the room's daily price slots: a number from 1 to 16 (price1…price16)",
      example: "1",
      test: isPriceSlot,
      scope: "connection",
    },
  },
  ical: {
    property: none(
      "iCal has no property ids: feeds are per listing, so map each room type to its feed URL",
    ),
    room_type: {
      rule: "iCal room type ids are the platform's feed URL: an https:// URL of at most 2048 characters without user:password@",
      example: "https://calendar.example.com/feeds/53170118.ics",
      test: isHttpsFeedUrl,
    },
    rate_plan: none("iCal carries no prices, so it has no rate plans to map"),
  },
};

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
