import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAPPING_TYPES, PLATFORMS, type Platform } from "../../../src/store/schema/channels.schema";
import {
  checkExternalId,
  EXTERNAL_ID_RULES,
  isDigits,
  isHttpsFeedUrl,
  isPartnerId,
  isPriceSlot,
  isUuid,
  PLATFORM_NAMES,
  supportsMappingType,
  type MappingType,
} from "../../../src/platforms/external-ids";

const digitString = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: min, maxLength: max });
const PARTNER_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const partnerString = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...PARTNER_CHARS), minLength: min, maxLength: max });

/** Numeric rules: [platform, type, max digits]. */
const NUMERIC: Array<[Platform, MappingType, number]> = [
  ["airbnb", "property", 20],
  ["airbnb", "room_type", 20],
  ["booking_com", "property", 10],
  ["booking_com", "room_type", 12],
  ["booking_com", "rate_plan", 12],
  ["expedia", "property", 10],
  ["expedia", "room_type", 12],
  ["expedia", "rate_plan", 12],
  ["beds24", "property", 10],
  ["beds24", "room_type", 10],
];

describe("the rule functions (properties)", () => {
  it("isDigits accepts exactly the digit strings within the bounds", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.integer({ min: 1, max: 25 }), (s, max) => {
        const expected =
          s.length >= 1 && s.length <= max && [...s].every((ch) => ch >= "0" && ch <= "9");
        expect(isDigits(s, 1, max)).toBe(expected);
      }),
    );
    fc.assert(
      fc.property(digitString(1, 20), (s) => {
        expect(isDigits(s, 1, 20)).toBe(true);
      }),
    );
  });

  it("isUuid accepts every UUID, in either case, and nothing with a changed shape", () => {
    fc.assert(
      fc.property(fc.uuid(), (u) => {
        expect(isUuid(u)).toBe(true);
        expect(isUuid(u.toUpperCase())).toBe(true);
        expect(isUuid(u.replaceAll("-", ""))).toBe(false);
        expect(isUuid(`${u}0`)).toBe(false);
        expect(isUuid(` ${u}`)).toBe(false);
      }),
    );
  });

  it("isPartnerId accepts 1–64 of [A-Za-z0-9_-] and rejects any other character", () => {
    fc.assert(
      fc.property(partnerString(1, 64), (s) => {
        expect(isPartnerId(s)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(partnerString(65, 90), (s) => {
        expect(isPartnerId(s)).toBe(false);
      }),
    );
    fc.assert(
      fc.property(
        partnerString(0, 30),
        fc.constantFrom(" ", ".", "/", "é", ":", "#", "\n"),
        partnerString(0, 30),
        (a, bad, b) => {
          expect(isPartnerId(`${a}${bad}${b}`)).toBe(false);
        },
      ),
    );
  });

  it("isHttpsFeedUrl accepts https web URLs and rejects other schemes", () => {
    fc.assert(
      fc.property(fc.webUrl({ validSchemes: ["https"], withQueryParameters: true }), (u) => {
        expect(isHttpsFeedUrl(u)).toBe(true);
        expect(isHttpsFeedUrl(u.replace(/^https:/, "http:"))).toBe(false);
        expect(isHttpsFeedUrl(u.replace(/^https:/, "webcal:"))).toBe(false);
      }),
    );
  });

  it("isPriceSlot is exactly 1…16", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 40 }), (n) => {
        expect(isPriceSlot(String(n))).toBe(n >= 1 && n <= 16);
      }),
    );
    expect(isPriceSlot("01")).toBe(false);
  });

  it("checkExternalId is total: any string gets an answer, and a failure names its platform", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PLATFORMS),
        fc.constantFrom(...MAPPING_TYPES),
        fc.string({ maxLength: 80 }),
        (platform, type, id) => {
          const r = checkExternalId(platform, type, id);
          if (!r.ok) expect(r.rule).toContain(PLATFORM_NAMES[platform]);
        },
      ),
    );
  });

  it("numeric rules accept every digit string within the bound and nothing longer or non-numeric", () => {
    for (const [platform, type, max] of NUMERIC) {
      fc.assert(
        fc.property(digitString(1, max), (id) => {
          expect(checkExternalId(platform, type, id)).toEqual({ ok: true });
        }),
        { numRuns: 30 },
      );
      fc.assert(
        fc.property(digitString(max + 1, max + 10), (id) => {
          expect(checkExternalId(platform, type, id).ok).toBe(false);
        }),
        { numRuns: 20 },
      );
      fc.assert(
        fc.property(
          digitString(0, 5),
          fc.constantFrom("a", "-", " ", ".", "x", "٣"),
          digitString(0, 5),
          (a, bad, b) => {
            expect(checkExternalId(platform, type, `${a}${bad}${b}`).ok).toBe(false);
          },
        ),
        { numRuns: 20 },
      );
    }
  });

  it("FeWo-direkt/Vrbo listing ids are digits or a UUID", () => {
    fc.assert(
      fc.property(fc.oneof(digitString(1, 20), fc.uuid()), (id) => {
        expect(checkExternalId("fewo_direkt", "room_type", id).ok).toBe(true);
        expect(checkExternalId("fewo_direkt", "property", id).ok).toBe(true);
      }),
    );
  });

  it("a platform without rate plans / properties rejects every id for them", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (id) => {
        expect(checkExternalId("airbnb", "rate_plan", id).ok).toBe(false);
        expect(checkExternalId("fewo_direkt", "rate_plan", id).ok).toBe(false);
        expect(checkExternalId("ical", "property", id).ok).toBe(false);
        expect(checkExternalId("ical", "rate_plan", id).ok).toBe(false);
      }),
    );
  });
});

describe("the rules table", () => {
  it("has a rule for every platform × mapping type, and each example passes its own rule", () => {
    for (const platform of PLATFORMS) {
      for (const type of MAPPING_TYPES) {
        const rule = EXTERNAL_ID_RULES[platform][type];
        expect(rule.rule).toContain(PLATFORM_NAMES[platform]);
        if (rule.example !== null) {
          expect(checkExternalId(platform, type, rule.example)).toEqual({ ok: true });
        }
        expect(supportsMappingType(platform, type)).toBe(rule.example !== null);
      }
    }
  });

  const cases: Array<[Platform, MappingType, string, boolean | string]> = [
    ["airbnb", "room_type", "53170118", true],
    ["airbnb", "room_type", "1", true],
    ["airbnb", "room_type", "1".repeat(20), true],
    ["airbnb", "room_type", "1".repeat(21), "Airbnb listing ids are 1–20 digits"],
    ["airbnb", "room_type", "HM12345678", "Airbnb listing ids are 1–20 digits"],
    ["airbnb", "room_type", "", "Airbnb listing ids are 1–20 digits"],
    ["airbnb", "property", "53170118", true],
    ["airbnb", "rate_plan", "123", "Airbnb has no rate plan ids"],
    ["booking_com", "property", "1234567", true],
    ["booking_com", "property", "12345678901", "Booking.com hotel ids are 1–10 digits"],
    ["booking_com", "room_type", "123456789012", true],
    ["booking_com", "room_type", "1234567890123", "Booking.com room ids are 1–12 digits"],
    ["booking_com", "room_type", "Double room", "Booking.com room ids are 1–12 digits"],
    ["booking_com", "rate_plan", "20345678", true],
    ["booking_com", "rate_plan", "BAR", "Booking.com rate plan ids are 1–12 digits"],
    ["expedia", "property", "4567890", true],
    ["expedia", "room_type", "201234567", true],
    ["expedia", "rate_plan", "2087A", "Expedia rate plan ids are 1–12 digits"],
    ["fewo_direkt", "room_type", "3212345", true],
    ["fewo_direkt", "room_type", "C0A8012E-7D4F-4A51-9B1E-2F3D4C5B6A79", true],
    [
      "fewo_direkt",
      "room_type",
      "321.2345",
      "FeWo-direkt/Vrbo listing ids are 1–20 digits or a UUID",
    ],
    ["google", "property", "alpine-stays_42", true],
    ["google", "property", "a".repeat(64), true],
    ["google", "property", "a".repeat(65), "Google hotel ids are your own partner ids"],
    ["google", "room_type", "double sea view", "Google room ids (InvTypeCode)"],
    ["google", "rate_plan", "flex-bb", true],
    ["beds24", "property", "123456", true],
    ["beds24", "room_type", "R-12", "Beds24 room ids (roomId) are 1–10 digits"],
    ["beds24", "rate_plan", "16", true],
    ["beds24", "rate_plan", "17", "Beds24 rate plans are the room's daily price slots"],
    ["ical", "room_type", "https://www.airbnb.com/calendar/ical/53170118.ics?s=abc", true],
    [
      "ical",
      "room_type",
      "http://example.com/feed.ics",
      "iCal room type ids are the platform's feed URL",
    ],
    ["ical", "room_type", "webcal://example.com/feed.ics", "an https:// URL"],
    ["ical", "room_type", "https://user:pw@example.com/feed.ics", "without user:password@"],
    ["ical", "room_type", "https://example.com/a b.ics", "an https:// URL"],
    ["ical", "room_type", `https://example.com/${"a".repeat(2048)}`, "at most 2048 characters"],
    ["ical", "property", "https://example.com/feed.ics", "iCal has no property ids"],
    ["ical", "rate_plan", "1", "iCal carries no prices"],
  ];

  it.each(cases)("%s %s %j → %s", (platform, type, id, expected) => {
    const r = checkExternalId(platform, type, id);
    if (expected === true) expect(r).toEqual({ ok: true });
    else {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.rule).toContain(expected);
    }
  });
});
