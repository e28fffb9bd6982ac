import { z } from "zod";
import { BOOKING_COM } from "./id";
import { addDays, fromDayNumber, type IsoDate } from "../../domain/dates";
import { log } from "../../lib/log";
import { joinUrl, readText } from "../kit/http";
import { CONFIRMED, notConfirmed, refusalOf } from "../kit/verdict";
import { runsOf, windowsOf, type Run } from "../kit/runs";
import { authorisedFetch, requestToken, type TokenSource } from "../kit/token-cache";
import {
  PlatformError,
  type AdapterContext,
  type MappingClaim,
  type MappingVerdict,
  type NightState,
  type PlannedCall,
  type PlatformAdapter,
  type PulledBookings,
  type PushPlan,
  type PushTarget,
  type WebhookHint,
} from "../contract";
import { parseRoomRates, roomRatesRequest } from "./roomrates";
import {
  OtaParseError,
  buildHotelAvailNotifRQ,
  buildHotelRateAmountNotifRQ,
  buildHotelResNotifRS,
  parseHotelResNotifRQ,
  parseOtaResponse,
  type AriTarget,
  type OtaHeader,
  type PulledReservation,
  type RateAmount,
} from "./ota-xml";

/**
 * Booking.com Connectivity adapter (OTA XML). Sources: shared/PROTOCOLS.md and the OTA 2015B
 * schemas; the signed push notification is the seeds' model of a hint (see README.md).
 */

const PLATFORM = BOOKING_COM;
/** "At most about a month per request". */
const MAX_DAYS_PER_CALL = 31;
/** Booking.com mints JWTs valid 1 h and allows at most 30 per hour. */
const MAX_TOKENS_PER_HOUR = 30;
const DAY_MS = 86_400_000;

const numericId = z.string().regex(/^\d+$/, "expected a numeric id");

export const bookingComWebhookSchema = z.object({
  event_id: z.string().min(1),
  event_type: z.enum(["reservation.new", "reservation.modified", "reservation.cancelled"]),
  hotel_id: numericId,
  reservation_id: numericId,
  occurred_at: z.iso.datetime({ offset: true }),
});

function tokenSource(ctx: AdapterContext): TokenSource {
  const { clientId, clientSecret, account } = ctx.credentials;
  return {
    platform: PLATFORM,
    baseUrl: ctx.baseUrl,
    clientId,
    account,
    now: ctx.now,
    maxMintsPerHour: MAX_TOKENS_PER_HOUR,
    mint: () =>
      requestToken(ctx, PLATFORM, joinUrl(ctx.baseUrl, "/oauth/token"), {
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: clientSecret,
      }),
  };
}

/** One authorised OTA call (single re-auth retry); returns the body text. */
async function otaCall(ctx: AdapterContext, url: string, init: RequestInit): Promise<string> {
  const headers = new Headers(init.headers);
  headers.set("accept", "application/xml");
  const res = await authorisedFetch(ctx, tokenSource(ctx), url, { ...init, headers });
  return readText(PLATFORM, res);
}

/** POST an OTA message; an HTTP 200 carrying `<Errors>` is still a failure. */
async function postOta(
  ctx: AdapterContext,
  message: string,
  body: string,
  requireSuccess: boolean,
): Promise<void> {
  const url = joinUrl(ctx.baseUrl, `/ota/${message}`);
  const headers = { "content-type": "application/xml" };
  const answer = await otaCall(ctx, url, { method: "POST", headers, body });
  if (!requireSuccess && answer.trim() === "") return;
  let parsed;
  try {
    parsed = parseOtaResponse(answer);
  } catch (err) {
    const why = err instanceof OtaParseError ? err.message : "unreadable";
    throw new PlatformError(PLATFORM, "permanent", `${message}: unreadable answer (${why})`);
  }
  if (parsed.errors.length > 0) {
    const list = parsed.errors.map((e) => `${e.code ?? "?"} ${e.shortText ?? ""}`.trim());
    throw new PlatformError(PLATFORM, "permanent", `${message} refused: ${list.join("; ")}`);
  }
  if (requireSuccess && !parsed.success) {
    throw new PlatformError(PLATFORM, "permanent", `${message}: answer has no <Success/>`);
  }
}

function parseWebhook(body: unknown): WebhookHint {
  const hook = bookingComWebhookSchema.parse(body);
  return {
    eventId: hook.event_id,
    eventType: hook.event_type,
    externalPropertyId: hook.hotel_id,
    bookingRef: hook.reservation_id,
  };
}

/**
 * The notification only says "something changed at this hotel": pull every pending reservation
 * and acknowledge the ones the caller reports stored. Reservations that cannot be read stay
 * unacknowledged, so Booking.com keeps offering them (and, after 30 minutes, e-mails them to the
 * property) rather than them being lost here.
 */
async function fetchBookings(ctx: AdapterContext, hint: WebhookHint): Promise<PulledBookings> {
  const hotelId = hint.externalPropertyId;
  if (!hotelId) throw new PlatformError(PLATFORM, "permanent", "hint carries no hotel id");
  const url = joinUrl(
    ctx.baseUrl,
    `/ota/OTA_HotelResNotif?hotel_id=${encodeURIComponent(hotelId)}`,
  );
  const xml = await otaCall(ctx, url, { method: "GET" });
  let parsed;
  try {
    parsed = parseHotelResNotifRQ(xml, hotelId);
  } catch (err) {
    const why = err instanceof OtaParseError ? err.message : "unreadable";
    throw new PlatformError(PLATFORM, "permanent", `OTA_HotelResNotif: ${why}`);
  }
  if (parsed.rejected.length > 0) {
    log("warn", "booking_com.reservations_unreadable", { hotelId, rejected: parsed.rejected });
  }
  if (parsed.reservations.length === 0) return { bookings: parsed.bookings };
  return { bookings: parsed.bookings, acknowledgement: { reservations: parsed.reservations } };
}

const acknowledgementSchema = z.object({
  reservations: z.array(
    z.object({
      reservationId: z.string(),
      hotelCode: z.string(),
      channelBookingIds: z.array(z.string()),
    }),
  ),
});

/**
 * A reservation is acknowledged only once every room of it is stored; otherwise Booking.com
 * offers it again and the stored rooms re-import as duplicates (which the import ignores).
 */
async function acknowledge(
  ctx: AdapterContext,
  acknowledgement: unknown,
  stored: string[],
): Promise<void> {
  const { reservations } = acknowledgementSchema.parse(acknowledgement);
  const done = new Set(stored);
  const acks: PulledReservation[] = reservations.filter((r) =>
    r.channelBookingIds.every((id) => done.has(id)),
  );
  if (acks.length === 0) return;
  await postOta(ctx, "OTA_HotelResNotifRS", buildHotelResNotifRS(acks, header(ctx)), false);
}

function header(ctx: AdapterContext): OtaHeader {
  return {
    timeStamp: new Date(ctx.now()).toISOString(),
    // The gate's key names the request's content, so a retry repeats it and others differ.
    ...(ctx.idempotencyKey ? { echoToken: ctx.idempotencyKey } : {}),
  };
}

/**
 * Booking.com rejects dates more than one day in the past (NOT_A_VALID_DATE). The caller clips to
 * the property's today; this only guards against sending what would fail the whole request.
 */
export function earliestAcceptedDate(nowMs: number): IsoDate {
  return addDays(fromDayNumber(Math.floor(nowMs / DAY_MS)), -1);
}

/** Availability runs per ≤31-day window: BookingLimit = rooms left (negative counts as none). */
export function availabilityWindows(nights: readonly NightState[]): Run<number>[][] {
  return windowsOf(nights, MAX_DAYS_PER_CALL).map((w) =>
    runsOf(
      w.map((n) => ({ date: n.date, value: Math.max(0, n.available) })),
      String,
    ),
  );
}

/** Price runs per ≤31-day window, over the nights that carry a price. */
export function rateWindows(nights: readonly NightState[]): Run<RateAmount>[][] {
  const priced = nights.flatMap((n) =>
    n.priceMinor !== undefined && n.currency
      ? [{ date: n.date, value: { amountMinor: n.priceMinor, currency: n.currency } }]
      : [],
  );
  return windowsOf(priced, MAX_DAYS_PER_CALL).map((w) =>
    runsOf(w, (v) => `${v.amountMinor} ${v.currency}`),
  );
}

/**
 * One OTA_HotelAvailNotif per ≤31-day window of dirty availability, then one
 * OTA_HotelRateAmountNotif per window of dirty prices (on the room's mapped rate plan). Dates
 * Booking.com would refuse (more than a day in the past) are left out; the gate lets them age out.
 */
function planPush(
  target: PushTarget,
  dirty: { availability: NightState[]; price: NightState[] },
  now: number,
): PushPlan {
  const cutoff = earliestAcceptedDate(now);
  const sendable = (nights: NightState[]) => nights.filter((n) => n.date >= cutoff);
  const ari: AriTarget = {
    hotelCode: target.externalPropertyId,
    invTypeCode: target.externalRoomId,
    ratePlanCode: target.externalRatePlanId,
  };
  const call = (
    aspect: PlannedCall["aspect"],
    message: string,
    runs: Run<unknown>[],
    build: (h: OtaHeader) => string,
  ): PlannedCall => ({
    aspect,
    dates: runs.flatMap((r) => Array.from({ length: r.nights }, (_, i) => addDays(r.start, i))),
    label: `${message} ${runs[0]?.start}..${runs.at(-1)?.end}`,
    // The body without its TimeStamp and EchoToken, which differ on every send.
    content: `POST /ota/${message} ${build({ timeStamp: "" })}`,
    send: (ctx) => postOta(ctx, message, build(header(ctx)), true),
  });
  const calls: PlannedCall[] = availabilityWindows(sendable(dirty.availability)).map((runs) =>
    call("availability", "OTA_HotelAvailNotif", runs, (h) => buildHotelAvailNotifRQ(ari, runs, h)),
  );
  const skipped: PushPlan["skipped"] = [];
  const rates = rateWindows(sendable(dirty.price));
  const ratePlanCode = target.externalRatePlanId;
  // Prices live on a rate plan, and guessing one could overwrite a plan the hotel did not map.
  if (rates.length > 0 && !ratePlanCode) {
    skipped.push({ aspect: "price", reason: "prices need the room's rate plan mapping" });
  } else if (ratePlanCode) {
    for (const runs of rates) {
      calls.push(
        call("price", "OTA_HotelRateAmountNotif", runs, (h) =>
          buildHotelRateAmountNotifRQ({ ...ari, ratePlanCode }, runs, h),
        ),
      );
    }
  }
  return { calls, skipped };
}

/**
 * A mapping is the connection's when its hotel is the connection's hotel and the roomrates read,
 * made with the machine account for that hotel, lists the room or rate. A hotel that did not
 * authorise this provider answers 403, as an unknown one does.
 */
async function verifyMapping(ctx: AdapterContext, claim: MappingClaim): Promise<MappingVerdict> {
  const hotel = claim.externalPropertyId;
  if (claim.mappingType === "property" && claim.externalId !== hotel) {
    return notConfirmed(`hotel ${claim.externalId} is not the connection's hotel ${hotel}`);
  }
  let xml: string;
  try {
    xml = await otaCall(ctx, joinUrl(ctx.baseUrl, "/hotels/xml/roomrates"), {
      method: "POST",
      headers: { "content-type": "application/xml" },
      body: roomRatesRequest(hotel),
    });
  } catch (err) {
    return refusalOf(err, `hotel ${hotel}`);
  }
  const known = parseRoomRates(xml);
  if (!known) throw new PlatformError(PLATFORM, "permanent", "roomrates: unreadable answer");
  if (claim.mappingType === "property") return CONFIRMED;
  const ids = claim.mappingType === "room_type" ? known.rooms : known.rates;
  return ids.has(claim.externalId)
    ? CONFIRMED
    : notConfirmed(`${claim.mappingType} ${claim.externalId} is not listed for hotel ${hotel}`);
}

export const bookingComAdapter = {
  platform: PLATFORM,
  signatureHeader: "x-booking-signature",
  maxNightsPerCall: MAX_DAYS_PER_CALL,
  parseWebhook,
  fetchBookings,
  acknowledge,
  planPush,
  verifyMapping,
} satisfies PlatformAdapter;
