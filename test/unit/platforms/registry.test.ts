import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../src/store/schema/channels.schema";
import { adapterFor, getAdapter, platformConfig } from "../../../src/platforms/registry";

const ENV = {
  AIRBNB_API_BASE: "http://sandbox.test/airbnb",
  AIRBNB_CLIENT_ID: "a-id",
  AIRBNB_CLIENT_SECRET: "a-secret",
  AIRBNB_REFRESH_TOKEN: "a-refresh",
  AIRBNB_WEBHOOK_SECRET: "a-hook",
  AIRBNB_WEBHOOK_SECRET_PREVIOUS: "a-hook-old",
  BOOKING_COM_API_BASE: "http://sandbox.test/booking_com",
  BOOKING_COM_CLIENT_ID: "b-id",
  BOOKING_COM_CLIENT_SECRET: "b-secret",
  BOOKING_COM_WEBHOOK_SECRET: "b-hook",
  BOOKING_COM_WEBHOOK_SECRET_PREVIOUS: "",
  BEDS24_API_BASE: "http://sandbox.test/beds24",
  BEDS24_REFRESH_TOKEN: "r-refresh",
  UNRELATED: 42,
};

describe("platform registry", () => {
  it("has adapters for Airbnb, Booking.com and Beds24 only", () => {
    expect(PLATFORMS.filter((p) => getAdapter(p))).toEqual(["airbnb", "booking_com", "beds24"]);
    expect(adapterFor("airbnb").signatureHeader).toBe("x-airbnb-signature");
    expect(adapterFor("booking_com").maxNightsPerCall).toBe(31);
    expect(() => adapterFor("expedia")).toThrow("no adapter for platform expedia");
  });

  it("reads each platform's configuration; empty previous secrets are dropped", () => {
    expect(platformConfig(ENV, "airbnb")).toEqual({
      baseUrl: "http://sandbox.test/airbnb",
      credentials: { clientId: "a-id", clientSecret: "a-secret", refreshToken: "a-refresh" },
      webhookSecrets: ["a-hook", "a-hook-old"],
    });
    expect(platformConfig(ENV, "booking_com")).toEqual({
      baseUrl: "http://sandbox.test/booking_com",
      credentials: { clientId: "b-id", clientSecret: "b-secret" },
      webhookSecrets: ["b-hook"],
    });
    // Beds24: no app credentials, no webhook endpoint; the refresh token is a default only.
    expect(platformConfig(ENV, "beds24")).toEqual({
      baseUrl: "http://sandbox.test/beds24",
      credentials: { clientId: "", clientSecret: "", refreshToken: "r-refresh" },
      webhookSecrets: [],
    });
    expect(
      platformConfig({ ...ENV, BEDS24_REFRESH_TOKEN: undefined }, "beds24").credentials,
    ).toEqual({ clientId: "", clientSecret: "" });
  });

  it("names a missing binding without showing any value", () => {
    expect(() => platformConfig({ ...ENV, AIRBNB_CLIENT_SECRET: " " }, "airbnb")).toThrow(
      "missing configuration AIRBNB_CLIENT_SECRET",
    );
    expect(() => platformConfig(ENV, "google")).toThrow("no configuration for platform google");
  });
});
