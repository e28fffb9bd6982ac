import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { validateXML, type XMLFileInfo } from "xmllint-wasm";
import {
  buildHotelResNotifRQ,
  buildOtaErrors,
  buildOtaSuccess,
  type ResNotifReservation,
} from "../../../sandbox/src/booking-com/ota-xml";

// What the Booking.com simulator answers must validate like the real platform's messages.
const SCHEMA_DIR = fileURLToPath(new URL("../../../../shared/schemas/ota2015b/", import.meta.url));
const SCHEMAS: XMLFileInfo[] = readdirSync(SCHEMA_DIR)
  .filter((f) => f.endsWith(".xsd"))
  .map((fileName) => ({ fileName, contents: readFileSync(SCHEMA_DIR + fileName, "utf8") }));

async function validate(xsd: string, xml: string): Promise<string[]> {
  const schema = SCHEMAS.find((s) => s.fileName === xsd)!;
  const result = await validateXML({
    xml: { fileName: "message.xml", contents: xml },
    schema,
    preload: SCHEMAS.filter((s) => s !== schema),
  });
  return result.valid ? [] : result.errors.map((e) => e.message);
}

const TS = "2026-11-21T05:00:00.123Z";
const RESERVATION: ResNotifReservation = {
  reservationId: "1234567890",
  hotelId: "1000001",
  roomId: "100000101",
  ratePlanId: "55501",
  resStatus: "Commit",
  createdAt: TS,
  lastModifiedAt: "2026-11-21T05:00:01.456Z",
  start: "2026-12-01",
  end: "2026-12-04",
  guests: 2,
  total: "450.00",
  currency: "EUR",
  givenName: "Anna & <Co>",
  surname: "Schmidt",
};

describe("sandbox Booking.com XML conforms to OTA 2015B", () => {
  it("validates OTA_HotelResNotifRQ with Commit/Modify/Cancel reservations", async () => {
    const xml = buildHotelResNotifRQ({
      timestamp: TS,
      reservations: [
        RESERVATION,
        { ...RESERVATION, reservationId: "2234567890", resStatus: "Modify", ratePlanId: null },
        { ...RESERVATION, reservationId: "3234567890", resStatus: "Cancel", givenName: null },
      ],
    });
    expect(await validate("OTA_HotelResNotifRQ.xsd", xml)).toEqual([]);
    expect(xml).toContain("<GivenName>Anna &amp; &lt;Co&gt;</GivenName>");
  });

  it("validates an empty pull answer", async () => {
    const xml = buildHotelResNotifRQ({ timestamp: TS, echoToken: "e1", reservations: [] });
    expect(await validate("OTA_HotelResNotifRQ.xsd", xml)).toEqual([]);
  });

  it("validates the RS answers: Success, Success with Warnings, Errors", async () => {
    const warning = { type: 3, code: "320", shortText: "NOT_ACKNOWLEDGED", message: "x" };
    const error = { type: 3, code: "15", shortText: "NOT_A_VALID_DATE", message: "in the past" };
    for (const root of [
      "OTA_HotelAvailNotifRS",
      "OTA_HotelRateAmountNotifRS",
      "OTA_HotelResNotifRS",
    ]) {
      const xsd = `${root}.xsd`;
      expect(await validate(xsd, buildOtaSuccess(root, { timestamp: TS }))).toEqual([]);
      expect(
        await validate(xsd, buildOtaSuccess(root, { timestamp: TS, warnings: [warning] })),
      ).toEqual([]);
      expect(await validate(xsd, buildOtaErrors(root, [error], { timestamp: TS }))).toEqual([]);
    }
  });

  it("the validator does reject a misordered message", async () => {
    const xml = buildHotelResNotifRQ({ timestamp: TS, reservations: [RESERVATION] }).replace(
      /(<TimeSpan [^>]*\/>)(<Total [^>]*\/>)/,
      "$2$1",
    );
    expect(await validate("OTA_HotelResNotifRQ.xsd", xml)).not.toEqual([]);
  });
});
