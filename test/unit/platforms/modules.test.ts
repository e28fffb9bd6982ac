import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../src/store/schema/channels.schema";
import { BOOKING_SOURCES } from "../../../src/store/schema/bookings.schema";
import { pullPlatformsDue } from "../../../src/jobs/cron";
import { PLATFORM_INPUTS, platformOf } from "../../../src/platforms/ids";
import {
  configKeyNames,
  findModule,
  moduleOf,
  PLATFORM_MODULES,
  withCapability,
} from "../../../src/platforms/registry";

const ids = (modules: readonly { id: string }[]) => modules.map((m) => m.id);

describe("platform modules", () => {
  it("one module per platform id, in the schema's order; booking sources are direct plus those", () => {
    expect(ids(PLATFORM_MODULES)).toEqual([...PLATFORMS]);
    expect(BOOKING_SOURCES).toEqual(["direct", ...PLATFORMS]);
  });

  it.each([
    ["webhook", ["airbnb", "booking_com"]],
    ["fetchBookings", ["airbnb", "booking_com"]],
    ["acknowledge", ["booking_com"]],
    ["pull", ["booking_com"]],
    ["probe", ["airbnb", "booking_com"]],
    ["push", ["airbnb", "booking_com", "beds24"]],
    ["verifyMapping", ["airbnb", "booking_com", "beds24"]],
    ["feed", []],
    ["readBack", []],
  ] as const)("%s: declared by %j", (capability, expected) => {
    expect(ids(withCapability(capability))).toEqual(expected);
  });

  it("Beds24 declares push and mapping checks only: no webhook, no booking import", () => {
    const beds24 = moduleOf("beds24");
    expect(beds24.webhook).toBeUndefined();
    expect(beds24.fetchBookings).toBeUndefined();
    expect(beds24.push?.maxNightsPerCall).toBe(366);
  });

  it("webhooks verify the OTA signature in their own header", () => {
    expect(withCapability("webhook").map((m) => [m.id, m.webhook.verification])).toEqual([
      ["airbnb", { kind: "ota_hmac", header: "x-airbnb-signature" }],
      ["booking_com", { kind: "ota_hmac", header: "x-booking-signature" }],
    ]);
  });

  it("vrbo is an alias of fewo_direkt; a name that is neither id nor alias finds nothing", () => {
    expect(findModule("vrbo")?.id).toBe("fewo_direkt");
    expect(findModule("fewo_direkt")?.id).toBe("fewo_direkt");
    expect(findModule("myspace")).toBeUndefined();
    expect(PLATFORM_INPUTS).toEqual([...PLATFORMS, "vrbo"]);
    expect(platformOf("vrbo")).toBe("fewo_direkt");
    expect(platformOf("airbnb")).toBe("airbnb");
    // Every alias a module declares is one the input enums accept, and only those.
    expect(PLATFORM_MODULES.flatMap((m) => m.aliases)).toEqual(["vrbo"]);
  });

  it("every configuration key a module reads is in .dev.vars.example and in the Env type", () => {
    const example = readFileSync(".dev.vars.example", "utf8");
    const envTypes = readFileSync("worker-configuration.d.ts", "utf8");
    const keys = configKeyNames();
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) {
      expect(example, key).toMatch(new RegExp(`^${key}=`, "m"));
      expect(envTypes, key).toContain(`${key}: string;`);
    }
  });

  it("the cron pulls each pull platform on every tick of its interval", () => {
    const minute = 60_000;
    for (const t of [0, 17 * minute, 17 * minute + 59_999]) {
      expect(pullPlatformsDue(t)).toEqual(["booking_com"]);
    }
  });
});
