import { pushNights } from "../../../support/push";
import { beforeEach, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { addDays } from "../../../../src/domain/dates";
import { bookingComAdapter } from "../../../../src/platforms/booking-com/adapter";
import { parseOtaResponse } from "../../../../src/platforms/booking-com/ota-xml";
import { resetTokenCache } from "../../../../src/platforms/kit/token-cache";
import {
  PlatformError,
  type AdapterContext,
  type NightState,
} from "../../../../src/platforms/contract";
import { clock, fakeFetch, json, xml, type Handler } from "../../fake-fetch";

const BASE = "http://fake.test/booking_com";
const CREDENTIALS = { clientId: "bc-client", clientSecret: "bc-secret" };
const NOW = Date.parse("2026-03-10T12:00:00Z");
const SUCCESS = (root: string) =>
  `<?xml version="1.0"?><${root} xmlns="http://www.opentravel.org/OTA/2003/05" Version="1.0"><Success/></${root}>`;

function setup(api: Handler) {
  let minted = 0;
  const fake = fakeFetch((req) => {
    if (req.url.pathname === "/booking_com/oauth/token") {
      minted += 1;
      return json({ access_token: `jwt-${minted}`, expires_in: 3600 });
    }
    return api(req);
  });
  const c = clock(NOW);
  const ctx: AdapterContext = {
    baseUrl: BASE,
    credentials: CREDENTIALS,
    fetch: fake.fetch,
    now: c.now,
  };
  const apiCalls = () => fake.requests.filter((r) => !r.url.pathname.endsWith("/oauth/token"));
  return { ctx, clock: c, requests: fake.requests, apiCalls, minted: () => minted };
}

async function failure(p: Promise<unknown>): Promise<PlatformError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlatformError);
  return err as PlatformError;
}

const PULL = `<?xml version="1.0" encoding="UTF-8"?>
<OTA_HotelResNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" Version="1.0">
 <HotelReservations>
  <HotelReservation ResStatus="Commit" CreateDateTime="2026-03-10T11:00:00Z" LastModifyDateTime="2026-03-10T11:00:00Z">
   <UniqueID Type="14" ID="0042"/>
   <RoomStays><RoomStay><RoomTypes><RoomType RoomTypeCode="77"/></RoomTypes>
    <TimeSpan Start="2026-04-01" End="2026-04-03"/><Total AmountAfterTax="200.00" CurrencyCode="EUR"/>
   </RoomStay></RoomStays>
   <ResGlobalInfo><BasicPropertyInfo HotelCode="555"/></ResGlobalInfo>
  </HotelReservation>
  <HotelReservation ResStatus="Cancel" LastModifyDateTime="2026-03-10T11:30:00Z">
   <UniqueID Type="14" ID="43"/>
   <RoomStays>
    <RoomStay><RoomTypes><RoomType RoomTypeCode="77"/></RoomTypes><TimeSpan Start="2026-04-05" End="2026-04-06"/></RoomStay>
    <RoomStay><RoomTypes><RoomType RoomTypeCode="78"/></RoomTypes><TimeSpan Start="2026-04-05" End="2026-04-07"/></RoomStay>
   </RoomStays>
  </HotelReservation>
  <HotelReservation ResStatus="Commit" LastModifyDateTime="2026-03-10T11:40:00Z">
   <UniqueID Type="14" ID="44"/>
   <RoomStays><RoomStay><RoomTypes><RoomType RoomTypeCode="77"/></RoomTypes></RoomStay></RoomStays>
  </HotelReservation>
 </HotelReservations>
</OTA_HotelResNotifRQ>`;

beforeEach(() => resetTokenCache());

describe("booking_com parseWebhook", () => {
  const hook = {
    event_id: "bk_1",
    event_type: "reservation.new",
    hotel_id: "555",
    reservation_id: "0042",
    occurred_at: "2026-03-10T11:00:00+01:00",
  };

  it("extracts the hint", () => {
    expect(bookingComAdapter.parseWebhook(hook)).toEqual({
      eventId: "bk_1",
      eventType: "reservation.new",
      externalPropertyId: "555",
      bookingRef: "0042",
    });
  });

  it("rejects a non-numeric hotel id with a ZodError naming it", () => {
    expect(() => bookingComAdapter.parseWebhook({ ...hook, hotel_id: "55a" })).toThrow(ZodError);
    try {
      bookingComAdapter.parseWebhook({
        ...hook,
        hotel_id: "55a",
        event_type: "reservation.created",
      });
    } catch (e) {
      expect((e as ZodError).issues.map((i) => i.path.join("."))).toEqual([
        "event_type",
        "hotel_id",
      ]);
    }
  });
});

describe("booking_com fetchBookings", () => {
  it("pulls every pending reservation, maps them, and acknowledges exactly the readable ones", async () => {
    const s = setup((req) =>
      req.method === "GET" ? xml(PULL) : xml(SUCCESS("OTA_HotelResNotifRS")),
    );
    const pulled = await bookingComAdapter.fetchBookings(s.ctx, {
      eventId: "e",
      eventType: "reservation.new",
      externalPropertyId: "555",
      bookingRef: "0042",
    });
    expect(pulled.bookings).toEqual([
      {
        platform: "booking_com",
        channelBookingId: "0042",
        externalPropertyId: "555",
        externalRoomId: "77",
        status: "confirmed",
        checkIn: "2026-04-01",
        checkOut: "2026-04-03",
        amountMinor: 20000,
        currency: "EUR",
        revision: Date.parse("2026-03-10T11:00:00Z"),
      },
      expect.objectContaining({
        channelBookingId: "43",
        externalRoomId: "77",
        status: "cancelled",
      }),
      expect.objectContaining({
        channelBookingId: "43-2",
        externalRoomId: "78",
        checkOut: "2026-04-07",
      }),
    ]);
    const pull = s.apiCalls()[0]!;
    expect(pull.url.pathname + pull.url.search).toBe(
      "/booking_com/ota/OTA_HotelResNotif?hotel_id=555",
    );
    expect(pull.headers.get("authorization")).toBe("Bearer jwt-1");

    expect(pulled.acknowledgement).toBeDefined();
    await bookingComAdapter.acknowledge!(s.ctx, pulled.acknowledgement, []);
    expect(s.apiCalls()).toHaveLength(1); // nothing stored, nothing acknowledged
    await bookingComAdapter.acknowledge!(s.ctx, pulled.acknowledgement, [
      "0042",
      "43",
      "43-2",
      "44",
    ]);
    const ack = s.apiCalls()[1]!;
    expect([ack.method, ack.url.pathname, ack.headers.get("content-type")]).toEqual([
      "POST",
      "/booking_com/ota/OTA_HotelResNotifRS",
      "application/xml",
    ]);
    const acked = [...ack.body.matchAll(/ResID_Value="([^"]+)"/g)].map((m) => m[1]);
    expect(acked).toEqual(["0042", "43"]); // 44 has no TimeSpan: left for Booking.com to re-offer
    expect(parseOtaResponse(ack.body).success).toBe(true);
    expect(s.minted()).toBe(1);

    // A multi-room reservation with a room not stored (e.g. unmapped) stays unacknowledged.
    await bookingComAdapter.acknowledge!(s.ctx, pulled.acknowledgement, ["0042", "43"]);
    const partial = s.apiCalls()[2]!;
    expect([...partial.body.matchAll(/ResID_Value="([^"]+)"/g)].map((m) => m[1])).toEqual(["0042"]);
  });

  it("an empty pull returns no bookings and nothing to acknowledge", async () => {
    const s = setup(() =>
      xml(`<OTA_HotelResNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" Version="1.0"/>`),
    );
    const pulled = await bookingComAdapter.fetchBookings(s.ctx, {
      eventId: "e",
      eventType: "x",
      externalPropertyId: "555",
    });
    expect(pulled).toEqual({ bookings: [] });
  });

  it("an acknowledgement answered with <Errors> fails permanently, naming the code", async () => {
    const s = setup((req) =>
      req.method === "GET"
        ? xml(PULL)
        : xml(
            `<OTA_HotelResNotifRS xmlns="http://www.opentravel.org/OTA/2003/05" Version="1.0"><Errors><Error Type="3" Code="392" ShortText="INVALID_RESERVATION">no such reservation</Error></Errors></OTA_HotelResNotifRS>`,
          ),
    );
    const pulled = await bookingComAdapter.fetchBookings(s.ctx, {
      eventId: "e",
      eventType: "x",
      externalPropertyId: "555",
    });
    const err = await failure(
      bookingComAdapter.acknowledge!(s.ctx, pulled.acknowledgement, ["0042"]),
    );
    expect(err.kind).toBe("permanent");
    expect(err.message).toContain("392 INVALID_RESERVATION");
  });

  it("a pull that is not OTA XML is permanent", async () => {
    const s = setup(() => xml("<html>oops</html>"));
    const err = await failure(
      bookingComAdapter.fetchBookings(s.ctx, {
        eventId: "e",
        eventType: "x",
        externalPropertyId: "555",
      }),
    );
    expect(err.kind).toBe("permanent");
    expect(err.message).toContain("expected <OTA_HotelResNotifRQ>");
  });
});

describe("booking_com pushAvailability", () => {
  const target = { externalPropertyId: "555", externalRoomId: "77", externalRatePlanId: "rp-1" };
  const today = "2026-03-10";

  function nights(
    start: string,
    count: number,
    f: (i: number) => Partial<NightState>,
  ): NightState[] {
    return Array.from({ length: count }, (_, i) => ({
      date: addDays(start, i),
      available: 1,
      ...f(i),
    }));
  }

  it("posts AvailNotif per 31-day window and RateAmountNotif for priced nights", async () => {
    const s = setup((req) => xml(SUCCESS(req.url.pathname.split("/").pop() + "RS")));
    const input = nights(today, 40, (i) => ({
      available: i < 20 ? 2 : 0,
      priceMinor: 10000,
      currency: "EUR",
    }));
    const result = await pushNights(
      bookingComAdapter,
      { ...s.ctx, idempotencyKey: "k" },
      target,
      input,
    );
    expect(result).toEqual({ calls: 4, nights: 40 });
    const calls = s.apiCalls();
    expect(calls.map((c) => c.url.pathname)).toEqual([
      "/booking_com/ota/OTA_HotelAvailNotif",
      "/booking_com/ota/OTA_HotelAvailNotif",
      "/booking_com/ota/OTA_HotelRateAmountNotif",
      "/booking_com/ota/OTA_HotelRateAmountNotif",
    ]);
    expect(calls.map((c) => /EchoToken="([^"]+)"/.exec(c.body)?.[1])).toEqual([
      "k-1",
      "k-2",
      "k-3",
      "k-4",
    ]);
    expect(calls[0]!.headers.get("content-type")).toBe("application/xml");
    expect(calls[0]!.body).toContain(
      '<AvailStatusMessage BookingLimit="2"><StatusApplicationControl Start="2026-03-10" End="2026-03-29" InvTypeCode="77" RatePlanCode="rp-1"/><RestrictionStatus Status="Open"/>',
    );
    expect(calls[0]!.body).toContain(
      '<AvailStatusMessage BookingLimit="0"><StatusApplicationControl Start="2026-03-30" End="2026-04-09" InvTypeCode="77" RatePlanCode="rp-1"/><RestrictionStatus Status="Close"/>',
    );
    expect(calls[1]!.body).toContain('Start="2026-04-10" End="2026-04-18"');
    expect(calls[2]!.body).toContain('AmountAfterTax="100.00" CurrencyCode="EUR"');
  });

  it("does not send dates more than a day in the past", async () => {
    const s = setup((req) => xml(SUCCESS(req.url.pathname.split("/").pop() + "RS")));
    const result = await pushNights(
      bookingComAdapter,
      s.ctx,
      target,
      nights("2026-03-05", 10, () => ({})),
    );
    expect(result).toEqual({ calls: 1, nights: 6 });
    expect(s.apiCalls()[0]!.body).toContain('Start="2026-03-09" End="2026-03-14"');
  });

  it("an HTTP 200 with <Errors> is a permanent failure naming the code", async () => {
    const s = setup(() =>
      xml(
        `<OTA_HotelAvailNotifRS xmlns="http://www.opentravel.org/OTA/2003/05" Version="1.0"><Errors><Error Type="3" Code="321" ShortText="NOT_A_VALID_DATE">date in the past</Error></Errors></OTA_HotelAvailNotifRS>`,
      ),
    );
    const err = await failure(
      pushNights(
        bookingComAdapter,
        s.ctx,
        target,
        nights(today, 2, () => ({})),
      ),
    );
    expect(err.kind).toBe("permanent");
    expect(err.message).toContain("321 NOT_A_VALID_DATE");
  });

  it("prices without a rate plan: availability still goes out, then a permanent error", async () => {
    const s = setup((req) => xml(SUCCESS(req.url.pathname.split("/").pop() + "RS")));
    const err = await failure(
      pushNights(
        bookingComAdapter,
        s.ctx,
        { externalPropertyId: "555", externalRoomId: "77" },
        nights(today, 2, () => ({ priceMinor: 5000, currency: "EUR" })),
      ),
    );
    expect(err.kind).toBe("permanent");
    expect(s.apiCalls().map((c) => c.url.pathname)).toEqual([
      "/booking_com/ota/OTA_HotelAvailNotif",
    ]);
    expect(s.apiCalls()[0]!.body).not.toContain("RatePlanCode");
  });

  it("401 → one new token and one retry; tokens are reused otherwise", async () => {
    let rejected = false;
    const s = setup((req) => {
      if (!rejected) {
        rejected = true;
        return new Response("expired", { status: 401 });
      }
      return xml(SUCCESS(req.url.pathname.split("/").pop() + "RS"));
    });
    await pushNights(
      bookingComAdapter,
      s.ctx,
      target,
      nights(today, 2, () => ({})),
    );
    await pushNights(
      bookingComAdapter,
      s.ctx,
      target,
      nights(today, 2, () => ({})),
    );
    expect(s.apiCalls().map((c) => c.headers.get("authorization"))).toEqual([
      "Bearer jwt-1",
      "Bearer jwt-2",
      "Bearer jwt-2",
    ]);
    const tokenCall = s.requests[0]!;
    expect(Object.fromEntries(new URLSearchParams(tokenCall.body))).toEqual({
      grant_type: "client_credentials",
      client_id: "bc-client",
      client_secret: "bc-secret",
    });
  });

  it("never mints more than 30 tokens an hour, even when every call is refused", async () => {
    const s = setup(() => new Response("nope", { status: 401 }));
    const kinds: string[] = [];
    for (let i = 0; i < 40; i++) {
      const err = await failure(
        pushNights(
          bookingComAdapter,
          s.ctx,
          target,
          nights(today, 1, () => ({})),
        ),
      );
      kinds.push(err.kind);
    }
    // The first push mints twice (cold cache + retry), each later one once, on its retry.
    expect(s.minted()).toBe(30);
    expect(kinds).toEqual([...Array(29).fill("auth"), ...Array(11).fill("rate_limited")]);
  });
});
