import { env } from "cloudflare:workers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  bookingToken,
  call,
  control,
  day,
  type Delivery,
  resetSandbox,
  uniqueDigits,
  verifySignature,
} from "./helpers";

const NS = "http://www.opentravel.org/OTA/2003/05";

beforeAll(resetSandbox);
afterEach(() => control("DELETE", "/_sandbox/booking_com/faults"));
// The token-minting test spends this client's hourly budget: leave a clean platform behind.
afterAll(() => control("POST", "/_sandbox/reset?platform=booking_com"));

let token: string;
beforeAll(async () => {
  token = await bookingToken();
});

async function newRoom(units = 2) {
  const hotel = uniqueDigits(7);
  const room = uniqueDigits(9);
  const ratePlan = uniqueDigits(8);
  await control("PUT", `/_sandbox/booking_com/hotels/${hotel}/rooms/${room}`, {
    units,
    rate_plan_id: ratePlan,
    price: "100.00",
    currency: "EUR",
  });
  return { hotel, room, ratePlan };
}

interface Avail {
  start: string;
  end: string;
  room: string;
  limit?: number;
  status?: "Open" | "Close";
}

function availXml(hotel: string, messages: Avail[], echo = "e-1"): string {
  const items = messages
    .map(
      (m) =>
        `<AvailStatusMessage${m.limit === undefined ? "" : ` BookingLimit="${m.limit}"`}>` +
        `<StatusApplicationControl Start="${m.start}" End="${m.end}" InvTypeCode="${m.room}"/>` +
        (m.status ? `<RestrictionStatus Status="${m.status}"/>` : "") +
        `</AvailStatusMessage>`,
    )
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?><OTA_HotelAvailNotifRQ xmlns="${NS}" Version="1.0" EchoToken="${echo}" TimeStamp="${new Date().toISOString()}"><AvailStatusMessages HotelCode="${hotel}">${items}</AvailStatusMessages></OTA_HotelAvailNotifRQ>`;
}

function rateXml(
  hotel: string,
  room: string,
  ratePlan: string,
  start: string,
  end: string,
  amount: string,
) {
  return `<OTA_HotelRateAmountNotifRQ xmlns="${NS}" Version="1.0"><RateAmountMessages HotelCode="${hotel}"><RateAmountMessage><StatusApplicationControl Start="${start}" End="${end}" InvTypeCode="${room}" RatePlanCode="${ratePlan}"/><Rates><Rate><BaseByGuestAmts><BaseByGuestAmt AmountAfterTax="${amount}" CurrencyCode="EUR"/></BaseByGuestAmts></Rate></Rates></RateAmountMessage></RateAmountMessages></OTA_HotelRateAmountNotifRQ>`;
}

function postOta(message: string, xml: string, contentType = "application/xml") {
  return call("POST", `/booking_com/ota/${message}`, {
    raw: xml,
    token,
    headers: { "content-type": contentType },
  });
}

async function calendar(hotel: string, room: string, start: string, end: string) {
  return (
    await control(
      "GET",
      `/_sandbox/booking_com/hotels/${hotel}/rooms/${room}/calendar?start=${start}&end=${end}`,
    )
  ).days as Array<{
    date: string;
    available: boolean;
    rooms_to_sell: number;
    closed: boolean;
    price: string;
    updated_at: number | null;
  }>;
}

/** The <Error> elements of an OTA answer, as [Code, ShortText]. */
function otaErrors(xml: string): string[][] {
  return [...xml.matchAll(/<Error Type="\d+" Code="(\w+)" ShortText="(\w+)">/g)].map((m) => [
    m[1]!,
    m[2]!,
  ]);
}

const pull = (hotel: string) =>
  call("GET", `/booking_com/ota/OTA_HotelResNotif?hotel_id=${hotel}`, { token });

/** Reservation ids and their ResStatus in a pull answer, in order. */
function pulled(xml: string): string[][] {
  return [
    ...xml.matchAll(/<HotelReservation [^>]*ResStatus="(\w+)"><UniqueID Type="14" ID="(\d+)"\/>/g),
  ].map((m) => [m[2]!, m[1]!]);
}

function ack(ids: string[]) {
  const reservations = ids
    .map(
      (id) =>
        `<HotelReservation><ResGlobalInfo><HotelReservationIDs><HotelReservationID ResID_Type="14" ResID_Value="${id}"/></HotelReservationIDs></ResGlobalInfo></HotelReservation>`,
    )
    .join("");
  return postOta(
    "OTA_HotelResNotifRS",
    `<OTA_HotelResNotifRS xmlns="${NS}" Version="1.0"><Success/><HotelReservations>${reservations}</HotelReservations></OTA_HotelResNotifRS>`,
  );
}

describe("booking_com oauth", () => {
  it("mints a JWT-shaped token valid one hour; a bad client gets 401; the OTA API needs a bearer", async () => {
    const parts = token.split(".");
    expect(parts).toHaveLength(3);
    for (const p of parts) expect(p).toMatch(/^[A-Za-z0-9_-]+$/);
    const payload = JSON.parse(atob(parts[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    expect(payload.exp - payload.iat).toBe(3600);
    expect(payload.sub).toBe(env.BOOKING_COM_CLIENT_ID);

    const form = await call("POST", "/booking_com/oauth/token", {
      raw: `grant_type=client_credentials&client_id=${env.BOOKING_COM_CLIENT_ID}&client_secret=${env.BOOKING_COM_CLIENT_SECRET}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.json).toEqual({
      access_token: expect.any(String),
      token_type: "Bearer",
      expires_in: 3600,
    });

    const bad = await call("POST", "/booking_com/oauth/token", {
      body: {
        grant_type: "client_credentials",
        client_id: env.BOOKING_COM_CLIENT_ID,
        client_secret: "nope",
      },
    });
    expect([bad.status, bad.json]).toEqual([401, { error: "invalid_client" }]);

    const r = await newRoom();
    const anonymous = await call("POST", "/booking_com/ota/OTA_HotelAvailNotif", {
      raw: availXml(r.hotel, [{ start: day(1), end: day(1), room: r.room, limit: 1 }]),
      headers: { "content-type": "application/xml" },
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).toContain("<OTA_HotelAvailNotifRS");
    expect(otaErrors(anonymous.text)).toEqual([["497", "AUTHENTICATION_FAILED"]]);
  });
});

describe("booking_com ARI push", () => {
  it("applies rooms to sell, closes and prices per date, echoing the EchoToken", async () => {
    const r = await newRoom(3);
    const before = Date.now();
    const res = await postOta(
      "OTA_HotelAvailNotif",
      availXml(
        r.hotel,
        [
          { start: day(10), end: day(11), room: r.room, limit: 1, status: "Open" },
          { start: day(12), end: day(12), room: r.room, limit: 0, status: "Close" },
        ],
        "push-42",
      ),
    );
    expect(res.status).toBe(200);
    expect(res.text).toMatch(
      /<OTA_HotelAvailNotifRS xmlns="http:\/\/www.opentravel.org\/OTA\/2003\/05" EchoToken="push-42" TimeStamp="[^"]+" Version="1.0"><Success\/><\/OTA_HotelAvailNotifRS>/,
    );
    const rate = await postOta(
      "OTA_HotelRateAmountNotif",
      rateXml(r.hotel, r.room, r.ratePlan, day(11), day(12), "130"),
    );
    expect(rate.text).toContain("<Success/>");

    const days = await calendar(r.hotel, r.room, day(9), day(12));
    expect(days.map((d) => [d.date, d.rooms_to_sell, d.closed, d.available, d.price])).toEqual([
      [day(9), 3, false, true, "100.00"],
      [day(10), 1, false, true, "100.00"],
      [day(11), 1, false, true, "130.00"],
      [day(12), 0, true, false, "130.00"],
    ]);
    expect(days[0]!.updated_at).toBeNull();
    for (const d of days.slice(1)) expect(d.updated_at).toBeGreaterThanOrEqual(before);

    const received = (await control("GET", "/_sandbox/booking_com/received?limit=2")).received;
    expect(received.map((x: { path: string }) => x.path)).toEqual([
      "/booking_com/ota/OTA_HotelAvailNotif",
      "/booking_com/ota/OTA_HotelRateAmountNotif",
    ]);
    expect(received[0].body).toContain('EchoToken="push-42"');
  });

  it("answers business errors with HTTP 200 <Errors> and applies nothing", async () => {
    const r = await newRoom(2);
    const cases: Array<[string, string[][]]> = [
      [
        availXml(r.hotel, [{ start: day(-3), end: day(1), room: r.room, limit: 0 }]),
        [["15", "NOT_A_VALID_DATE"]],
      ],
      [
        availXml(r.hotel, [{ start: "2031-02-30", end: "2031-03-01", room: r.room, limit: 0 }]),
        [["15", "NOT_A_VALID_DATE"]],
      ],
      [
        availXml(r.hotel, [{ start: day(1), end: day(2), room: "999999999", limit: 0 }]),
        [["402", "INVALID_ROOM_TYPE"]],
      ],
      [
        availXml("9999999", [{ start: day(1), end: day(2), room: r.room, limit: 0 }]),
        [["392", "INVALID_HOTEL_CODE"]],
      ],
      [
        availXml(r.hotel, [
          { start: day(1), end: day(20), room: r.room, limit: 0 },
          { start: day(21), end: day(32), room: r.room, limit: 0 },
        ]),
        [["320", "DATE_RANGE_TOO_LONG"]],
      ],
      // One bad message fails the whole request: the good first message is not applied either.
      [
        availXml(r.hotel, [
          { start: day(1), end: day(1), room: r.room, limit: 0 },
          { start: day(2), end: day(2), room: r.room, limit: -1 },
        ]),
        [["320", "INVALID_VALUE"]],
      ],
    ];
    for (const [xml, errors] of cases) {
      const res = await postOta("OTA_HotelAvailNotif", xml);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain("<Success/>");
      expect(otaErrors(res.text)).toEqual(errors);
    }
    const rate = await postOta(
      "OTA_HotelRateAmountNotif",
      rateXml(r.hotel, r.room, "other-plan", day(1), day(1), "90.00"),
    );
    expect(otaErrors(rate.text)).toEqual([["249", "INVALID_RATE_CODE"]]);
    // Yesterday is still accepted, and exactly 31 days is the limit.
    const edge = await postOta(
      "OTA_HotelAvailNotif",
      availXml(r.hotel, [{ start: day(-1), end: day(29), room: r.room, limit: 1 }]),
    );
    expect(edge.text).toContain("<Success/>");

    const days = await calendar(r.hotel, r.room, day(1), day(2));
    expect(days.map((d) => d.rooms_to_sell)).toEqual([1, 1]);
  });

  it("refuses malformed XML, a wrong root, a wrong namespace and a non-XML body with HTTP 4xx", async () => {
    const r = await newRoom();
    const good = availXml(r.hotel, [{ start: day(1), end: day(1), room: r.room, limit: 1 }]);
    const cases: Array<[string, string, number]> = [
      [good.replace("</AvailStatusMessages>", ""), "application/xml", 400],
      [
        good.replaceAll("OTA_HotelAvailNotifRQ", "OTA_HotelRateAmountNotifRQ"),
        "application/xml",
        400,
      ],
      [good.replace(NS, "urn:not-ota"), "application/xml", 400],
      [good, "application/json", 415],
    ];
    for (const [xml, type, status] of cases) {
      const res = await postOta("OTA_HotelAvailNotif", xml, type);
      expect(res.status).toBe(status);
      expect(res.text).toContain("<Errors>");
    }
    expect((await calendar(r.hotel, r.room, day(1), day(1)))[0]!.updated_at).toBeNull();
  });

  it("names the problem and its line in a malformed-XML answer", async () => {
    const r = await newRoom();
    const good = availXml(r.hotel, [{ start: day(1), end: day(1), room: r.room, limit: 1 }]);
    const res = await postOta(
      "OTA_HotelAvailNotif",
      good.replace("<AvailStatusMessages", "\n\n<AvailStatusMessages").replace("/>", ">"),
    );
    expect(res.status).toBe(400);
    expect(otaErrors(res.text)).toEqual([["450", "INVALID_XML"]]);
    expect(res.text).toMatch(/Malformed XML: line 3: .*StatusApplicationControl/);
  });

  it("refuses a DOCTYPE (entity declarations and their expansion) with HTTP 400", async () => {
    const r = await newRoom();
    const good = availXml(r.hotel, [{ start: day(1), end: day(1), room: r.room, limit: 1 }]);
    const laughs =
      '<!DOCTYPE OTA_HotelAvailNotifRQ [\n<!ENTITY a "1">\n<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">\n' +
      '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">\n]>\n';
    const cases = [
      // A declared entity expanding into the room count.
      good.replace("?>", `?>\n${laughs}`).replace('BookingLimit="1"', 'BookingLimit="&c;"'),
      // Even an empty DOCTYPE, and a declaration inside an element.
      good.replace("?>", "?><!DOCTYPE OTA_HotelAvailNotifRQ>"),
      good.replace("<AvailStatusMessages", '<!ENTITY x "y"><AvailStatusMessages'),
    ];
    for (const xml of cases) {
      const res = await postOta("OTA_HotelAvailNotif", xml);
      expect(res.status).toBe(400);
      expect(otaErrors(res.text)).toEqual([["450", "INVALID_XML"]]);
      expect(res.text).toMatch(/Malformed XML: line \d+: (DOCTYPE|markup) declarations are not/);
    }
    expect(
      (await postOta("OTA_HotelAvailNotif", good.replace("?>", `?>\n${laughs}`))).text,
    ).toContain("Malformed XML: line 2: DOCTYPE declarations are not allowed");
    expect((await calendar(r.hotel, r.room, day(1), day(1)))[0]!.updated_at).toBeNull();
  });

  it("reads a prefixed OTA root and children, attributes with entity references, and echoes the token", async () => {
    const r = await newRoom();
    const prefixed = availXml(
      r.hotel,
      [{ start: day(1), end: day(1), room: r.room, limit: 0, status: "Close" }],
      "a&amp;b",
    )
      .replace(`xmlns="${NS}"`, `xmlns:ota="${NS}"`)
      .replace(/<(\/?)(\w)/g, "<$1ota:$2");
    const res = await postOta("OTA_HotelAvailNotif", prefixed);
    expect(res.status).toBe(200);
    expect(res.text).toContain("<Success/>");
    expect(res.text).toContain('EchoToken="a&amp;b"');
    const [d] = await calendar(r.hotel, r.room, day(1), day(1));
    expect(d).toMatchObject({ rooms_to_sell: 0, closed: true });
    // The prefix bound to another namespace is not the OTA element.
    const wrong = prefixed.replace(`xmlns:ota="${NS}"`, `xmlns:ota="urn:not-ota" xmlns="${NS}"`);
    expect((await postOta("OTA_HotelAvailNotif", wrong)).status).toBe(400);
  });
});

describe("booking_com reservations (pull and acknowledge)", () => {
  it("a booking is pulled until acknowledged; a modification or cancellation makes it pending again", async () => {
    const r = await newRoom(2);
    const created = await control("POST", "/_sandbox/booking_com/reservations?deliver=none", {
      hotel_id: r.hotel,
      room_id: r.room,
      start_date: day(30),
      end_date: day(33),
      guest_name: "Jane Doe",
      guests: 2,
    });
    const id = created.reservation.reservation_id as string;
    expect(id).toMatch(/^[1-9]\d{9}$/);
    expect(created.reservation).toMatchObject({
      hotel_id: r.hotel,
      room_id: r.room,
      rate_plan_id: r.ratePlan,
      res_status: "Commit",
      total_price: { amount: "300.00", currency: "EUR" },
    });
    expect(created.calendar_open).toBe(true);
    const [d] = created.deliveries as Delivery[];
    expect(d!.url).toBe("http://engine.test/api/v1/webhooks/booking_com");
    expect(
      await verifySignature(
        env.BOOKING_COM_WEBHOOK_SECRET,
        d!.headers["X-Booking-Signature"]!,
        d!.body,
      ),
    ).toBe(true);
    expect(JSON.parse(d!.body)).toEqual({
      event_id: expect.stringMatching(/^bcn_/),
      event_type: "reservation.new",
      hotel_id: r.hotel,
      reservation_id: id,
      occurred_at: created.reservation.updated_at,
    });

    const first = await pull(r.hotel);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toContain("application/xml");
    expect(pulled(first.text)).toEqual([[id, "Commit"]]);
    expect(first.text).toContain(`<RoomType RoomTypeCode="${r.room}"/>`);
    expect(first.text).toContain(`<RatePlan RatePlanCode="${r.ratePlan}"/>`);
    expect(first.text).toContain(`<TimeSpan Start="${day(30)}" End="${day(33)}"/>`);
    expect(first.text).toContain(`<Total AmountAfterTax="300.00" CurrencyCode="EUR"/>`);
    expect(first.text).toContain("<GivenName>Jane</GivenName><Surname>Doe</Surname>");
    expect(first.text).toContain(`<HotelReservationID ResID_Type="14" ResID_Value="${id}"/>`);
    // Not acknowledged: offered again.
    expect(pulled((await pull(r.hotel)).text)).toEqual([[id, "Commit"]]);

    const acked = await ack([id]);
    expect(acked.status).toBe(200);
    expect(acked.text).toContain("<Success/>");
    expect(acked.text).not.toContain("<Warnings>");
    expect(pulled((await pull(r.hotel)).text)).toEqual([]);
    expect((await pull(r.hotel)).text).not.toContain("<HotelReservations>");

    const modified = await control(
      "POST",
      `/_sandbox/booking_com/reservations/${id}/modify?deliver=none`,
      {
        end_date: day(34),
      },
    );
    expect(JSON.parse(modified.deliveries[0].body).event_type).toBe("reservation.modified");
    expect(pulled((await pull(r.hotel)).text)).toEqual([[id, "Modify"]]);
    await ack([id]);
    const cancelled = await control(
      "POST",
      `/_sandbox/booking_com/reservations/${id}/cancel?deliver=none`,
    );
    expect(JSON.parse(cancelled.deliveries[0].body).event_type).toBe("reservation.cancelled");
    expect(pulled((await pull(r.hotel)).text)).toEqual([[id, "Cancel"]]);
    await ack([id]);
    expect(pulled((await pull(r.hotel)).text)).toEqual([]);
  });

  it("an acknowledgement covers only the revision pulled; unknown ids come back as warnings", async () => {
    const r = await newRoom(1);
    const { reservation } = await control(
      "POST",
      "/_sandbox/booking_com/reservations?deliver=none",
      {
        hotel_id: r.hotel,
        room_id: r.room,
        start_date: day(40),
        end_date: day(41),
      },
    );
    const id = reservation.reservation_id as string;
    await pull(r.hotel);
    // Modified between the pull and the acknowledgement: the new revision stays pending.
    await control("POST", `/_sandbox/booking_com/reservations/${id}/modify?deliver=none`, {
      guests: 2,
    });
    const late = await ack([id, "1000000000"]);
    expect(late.text).toContain("<Success/>");
    expect(late.text).toContain(`${id}: modified since it was retrieved`);
    expect(late.text).toContain("1000000000: unknown reservation");
    expect(pulled((await pull(r.hotel)).text)).toEqual([[id, "Modify"]]);
    await ack([id]);
    expect(pulled((await pull(r.hotel)).text)).toEqual([]);

    const denied = await pull("8888888");
    expect(denied.status).toBe(403);
  });

  it("a booking lowers rooms to sell (without touching updated_at); a cancellation gives the room back", async () => {
    const r = await newRoom(1);
    const res = await control("POST", "/_sandbox/booking_com/reservations?deliver=none", {
      hotel_id: r.hotel,
      room_id: r.room,
      start_date: day(50),
      end_date: day(52),
    });
    let days = await calendar(r.hotel, r.room, day(50), day(52));
    expect(days.map((d) => [d.rooms_to_sell, d.available, d.updated_at])).toEqual([
      [0, false, null],
      [0, false, null],
      [1, true, null],
    ]);
    // The platform sells what its calendar shows; an overbooking is the engine's problem.
    const second = await call("POST", "/_sandbox/booking_com/reservations?deliver=none", {
      body: { hotel_id: r.hotel, room_id: r.room, start_date: day(50), end_date: day(51) },
    });
    expect([second.status, second.json.calendar_open]).toEqual([201, false]);
    await control(
      "POST",
      `/_sandbox/booking_com/reservations/${res.reservation.reservation_id}/cancel?deliver=none`,
    );
    await control(
      "POST",
      `/_sandbox/booking_com/reservations/${second.json.reservation.reservation_id}/cancel?deliver=none`,
    );
    days = await calendar(r.hotel, r.room, day(50), day(51));
    expect(days.map((d) => d.rooms_to_sell)).toEqual([1, 1]);
  });
});

describe("booking_com token minting limit", () => {
  it("mints at most 30 tokens per rolling hour, then 429 with Retry-After", async () => {
    await control("POST", "/_sandbox/reset?platform=booking_com");
    let status = 200;
    let minted = 0;
    let last: Awaited<ReturnType<typeof call>> | undefined;
    while (status === 200 && minted < 40) {
      last = await call("POST", "/booking_com/oauth/token", {
        body: {
          grant_type: "client_credentials",
          client_id: env.BOOKING_COM_CLIENT_ID,
          client_secret: env.BOOKING_COM_CLIENT_SECRET,
        },
      });
      status = last.status;
      if (status === 200) minted += 1;
    }
    expect(minted).toBe(30);
    expect(last!.status).toBe(429);
    const retryAfter = Number(last!.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
  });
});
