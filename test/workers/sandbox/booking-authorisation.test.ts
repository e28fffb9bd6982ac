import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bookingToken, call, control, day, resetSandbox, uniqueDigits } from "./helpers";

/**
 * Booking.com hotel authorisation: one machine account serves every hotel that authorised it; the
 * roomrates read lists an authorised hotel's rooms and rates, and an unauthorised hotel is refused
 * everywhere exactly like an unknown one.
 */

beforeAll(resetSandbox);
// Later files mint Booking.com tokens too; give them the full hourly budget back.
afterAll(resetSandbox);

const ROOMRATES = "/booking_com/hotels/xml/roomrates";
const roomRates = (token: string, hotel: string) =>
  call("POST", ROOMRATES, {
    token,
    raw: `<request><hotel_id>${hotel}</hotel_id></request>`,
    headers: { "content-type": "application/xml" },
  });

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

function availXml(hotel: string, room: string): string {
  return (
    `<OTA_HotelAvailNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" Version="1.0">` +
    `<AvailStatusMessages HotelCode="${hotel}"><AvailStatusMessage BookingLimit="0">` +
    `<StatusApplicationControl Start="${day(3)}" End="${day(3)}" InvTypeCode="${room}"/>` +
    `</AvailStatusMessage></AvailStatusMessages></OTA_HotelAvailNotifRQ>`
  );
}

describe("Booking.com hotel authorisation", () => {
  it("lists the rooms and rate plans of an authorised hotel", async () => {
    const token = await bookingToken();
    const hotel = `H${uniqueDigits(7)}`;
    await control("PUT", `/_sandbox/booking_com/hotels/${hotel}/rooms/R1`, { rate_plan_id: "RP1" });
    await control("PUT", `/_sandbox/booking_com/hotels/${hotel}/rooms/R2`, { units: 2 });
    const r = await roomRates(token, hotel);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/xml/);
    expect(r.text).toBe(
      `${DECLARATION}<roomrates>` +
        `<room id="R1" hotel_id="${hotel}" room_name="Room R1"><rates><rate id="RP1" rate_name="Rate RP1"/></rates></room>` +
        `<room id="R2" hotel_id="${hotel}" room_name="Room R2"><rates/></room>` +
        `</roomrates>`,
    );
  });

  it("answers an unauthorised and an unknown hotel with the same 403", async () => {
    const token = await bookingToken();
    const hotel = `H${uniqueDigits(7)}`;
    await control("PUT", `/_sandbox/booking_com/hotels/${hotel}/rooms/R1`, { units: 1 });
    const withdrawn = await control("PUT", `/_sandbox/booking_com/hotels/${hotel}`, {
      authorised: false,
    });
    expect(withdrawn).toEqual({
      hotel_id: hotel,
      authorised: false,
      rooms: [
        {
          hotel_id: hotel,
          room_id: "R1",
          units: 1,
          rate_plan_id: null,
          price: null,
          currency: "EUR",
        },
      ],
    });
    const unknown = `U${uniqueDigits(7)}`;
    const refused = await roomRates(token, hotel);
    const missing = await roomRates(token, unknown);
    expect([refused.status, missing.status]).toEqual([403, 403]);
    expect(refused.text).toBe(
      `${DECLARATION}<error><code>403</code><message>Access denied for hotel ${hotel}</message></error>`,
    );
    expect(missing.text.replace(unknown, hotel)).toBe(refused.text);

    // Authorised again, it answers; a hotel record without rooms is known and empty.
    await control("PUT", `/_sandbox/booking_com/hotels/${hotel}`, { authorised: true });
    expect((await roomRates(token, hotel)).status).toBe(200);
    const empty = `E${uniqueDigits(7)}`;
    await control("PUT", `/_sandbox/booking_com/hotels/${empty}`, {});
    expect((await roomRates(token, empty)).text).toBe(`${DECLARATION}<roomrates></roomrates>`);
  });

  it("refuses bad requests with a 400 <error> naming the problem, and needs a token", async () => {
    const token = await bookingToken();
    const cases: Array<[string, RegExp]> = [
      ["<request><hotel_id>1</request>", /Malformed XML/],
      ["<request/>", /hotel_id is required/],
      ["<request><hotel_id> </hotel_id></request>", /hotel_id is required/],
      ['<!DOCTYPE request [<!ENTITY x "y">]><request><hotel_id>1</hotel_id></request>', /DOCTYPE/],
      [availXml("1", "1"), /expected request/],
    ];
    for (const [raw, message] of cases) {
      const r = await call("POST", ROOMRATES, {
        token,
        raw,
        headers: { "content-type": "application/xml" },
      });
      expect(r.status, raw).toBe(400);
      expect(r.text).toMatch(/<error><code>400<\/code><message>[^<]+<\/message><\/error>$/);
      expect(r.text).toMatch(message);
    }
    const json = await call("POST", ROOMRATES, { token, body: { hotel_id: "1" } });
    expect(json.status).toBe(415);
    const anonymous = await call("POST", ROOMRATES, {
      raw: "<request><hotel_id>1</hotel_id></request>",
      headers: { "content-type": "application/xml" },
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).toContain("<error><code>401</code>");
  });

  it("refuses ARI and the pull for a hotel that withdrew its authorisation, as for an unknown one", async () => {
    const token = await bookingToken();
    const hotel = `H${uniqueDigits(7)}`;
    await control("PUT", `/_sandbox/booking_com/hotels/${hotel}/rooms/R1`, { units: 2 });
    await control("PUT", `/_sandbox/booking_com/hotels/${hotel}`, { authorised: false });
    const ari = await call("POST", "/booking_com/ota/OTA_HotelAvailNotif", {
      token,
      raw: availXml(hotel, "R1"),
      headers: { "content-type": "application/xml" },
    });
    expect(ari.status).toBe(200);
    expect(ari.text).toContain('Code="392" ShortText="INVALID_HOTEL_CODE"');
    const days = await control(
      "GET",
      `/_sandbox/booking_com/hotels/${hotel}/rooms/R1/calendar?start=${day(3)}&end=${day(3)}`,
    );
    expect(days.days[0]).toMatchObject({ rooms_to_sell: 2, updated_at: null });
    const pull = await call("GET", `/booking_com/ota/OTA_HotelResNotif?hotel_id=${hotel}`, {
      token,
    });
    expect(pull.status).toBe(403);
    expect(pull.text).toContain('ShortText="ACCESS_DENIED"');

    await control("PUT", `/_sandbox/booking_com/hotels/${hotel}`, { authorised: true });
    const again = await call("POST", "/booking_com/ota/OTA_HotelAvailNotif", {
      token,
      raw: availXml(hotel, "R1"),
      headers: { "content-type": "application/xml" },
    });
    expect(again.text).toContain("<Success/>");
  });
});
