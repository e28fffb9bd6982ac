import { XMLParser } from "fast-xml-parser";
import { isIsoDate, type IsoDate } from "../../domain/dates";
import { decimalToMinor, minorToDecimal } from "../kit/money";
import type { Run } from "../kit/runs";
import type { ChannelBooking } from "../contract";
import {
  asNode,
  attr,
  child,
  children,
  el,
  nested,
  path,
  text,
  xmlDocument,
  type ParsedNode as Node,
  type XmlNode,
} from "../kit/xml";

/**
 * OTA 2015B messages for Booking.com, as pure functions (no I/O, no clock): builders for the
 * requests and the reservation acknowledgement, parsers for the pulled reservations and for every
 * RS answer. Built with the one XML builder (../kit/xml.ts), children in the order the XSD's
 * sequences demand. Validated against shared/schemas/ota2015b in test/unit/platforms/booking-com/ota-xsd.test.ts.
 */

export const OTA_NS = "http://www.opentravel.org/OTA/2003/05";
export const OTA_VERSION = "1.0";
/** OTA UniqueID / ResID type 14: a reservation. */
const RESERVATION_ID_TYPE = "14";
/** OTA_PayloadStdAttributes: EchoToken is StringLength1to128. */
const MAX_ECHO_TOKEN = 128;

export interface OtaHeader {
  /** xs:dateTime, e.g. new Date(now).toISOString(). */
  timeStamp: string;
  /** Echoed back by the platform; the push's idempotency key. */
  echoToken?: string;
}

// ---------------------------------------------------------------------------------------------
// Building

function root(name: string, header: OtaHeader, ...children: XmlNode[]): string {
  const echo = header.echoToken ? header.echoToken.slice(0, MAX_ECHO_TOKEN) : undefined;
  const rootAttrs = {
    xmlns: OTA_NS,
    Version: OTA_VERSION,
    TimeStamp: header.timeStamp,
    EchoToken: echo,
  };
  return xmlDocument(el(name, rootAttrs, ...children));
}

export interface AriTarget {
  hotelCode: string;
  /** Booking.com room id. */
  invTypeCode: string;
  /** Booking.com rate plan id; availability without one applies to the room. */
  ratePlanCode?: string;
}

function statusApplicationControl(target: AriTarget, run: Run<unknown>): XmlNode {
  return el("StatusApplicationControl", {
    Start: run.start,
    End: run.end,
    InvTypeCode: target.invTypeCode,
    RatePlanCode: target.ratePlanCode,
  });
}

/**
 * Rooms to sell per run of nights (End inclusive): BookingLimit is the count, and a run with none
 * left is also closed, so a stale count on Booking.com's side cannot sell it.
 */
export function buildHotelAvailNotifRQ(
  target: AriTarget,
  runs: readonly Run<number>[],
  header: OtaHeader,
): string {
  const messages = runs.map((run) => {
    const limit = Math.max(0, Math.trunc(run.value));
    return el(
      "AvailStatusMessage",
      { BookingLimit: limit },
      statusApplicationControl(target, run),
      el("RestrictionStatus", { Status: limit > 0 ? "Open" : "Close" }),
    );
  });
  return root(
    "OTA_HotelAvailNotifRQ",
    header,
    el("AvailStatusMessages", { HotelCode: target.hotelCode }, ...messages),
  );
}

export interface RateAmount {
  amountMinor: number;
  currency: string;
}

/** Nightly price per run of nights, as the amount after tax in the currency's decimals. */
export function buildHotelRateAmountNotifRQ(
  target: AriTarget & { ratePlanCode: string },
  runs: readonly Run<RateAmount>[],
  header: OtaHeader,
): string {
  const messages = runs.map((run) =>
    el(
      "RateAmountMessage",
      {},
      statusApplicationControl(target, run),
      nested(
        ["Rates", "Rate", "BaseByGuestAmts"],
        el("BaseByGuestAmt", {
          AmountAfterTax: minorToDecimal(run.value.amountMinor, run.value.currency),
          CurrencyCode: run.value.currency,
        }),
      ),
    ),
  );
  return root(
    "OTA_HotelRateAmountNotifRQ",
    header,
    el("RateAmountMessages", { HotelCode: target.hotelCode }, ...messages),
  );
}

export interface ReservationAck {
  reservationId: string;
  hotelCode: string;
}

/** Acknowledge pulled reservations: Booking.com stops offering each acknowledged id. */
export function buildHotelResNotifRS(acks: readonly ReservationAck[], header: OtaHeader): string {
  const reservations = acks.map((a) =>
    el(
      "HotelReservation",
      {},
      el("UniqueID", { Type: RESERVATION_ID_TYPE, ID: a.reservationId }),
      el(
        "ResGlobalInfo",
        {},
        el(
          "HotelReservationIDs",
          {},
          el("HotelReservationID", {
            ResID_Type: RESERVATION_ID_TYPE,
            ResID_Value: a.reservationId,
          }),
        ),
        // The XSD requires BasicPropertyInfo at the end of a reservation's ResGlobalInfo.
        el("BasicPropertyInfo", { HotelCode: a.hotelCode }),
      ),
    ),
  );
  const list = reservations.length > 0 ? [el("HotelReservations", {}, ...reservations)] : [];
  return root("OTA_HotelResNotifRS", header, el("Success"), ...list);
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Elements that may repeat: always arrays after parsing, whether one or many were sent. */
const REPEATED = new Set([
  "HotelReservation",
  "UniqueID",
  "RoomStay",
  "RoomType",
  "RatePlan",
  "GuestCount",
  "ResGuest",
  "ProfileInfo",
  "GivenName",
  "HotelReservationID",
  "Error",
  "Warning",
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  removeNSPrefix: true,
  // Ids like "0042" must stay strings, and numbers are read where they are meant.
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => REPEATED.has(name),
});

export class OtaParseError extends Error {
  override name = "OtaParseError";
}

function parseDocument(xml: string): { name: string; root: Node } {
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch (err) {
    throw new OtaParseError(`not well-formed XML: ${excerptOf(err)}`);
  }
  const name = Object.keys(doc).find((k) => !k.startsWith("?") && !k.startsWith("#"));
  if (!name) throw new OtaParseError("no root element");
  return { name, root: asNode(doc[name]) ?? {} };
}

function excerptOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 120);
}

export interface OtaIssue {
  code?: string;
  shortText?: string;
  type?: string;
}

export interface OtaResponse {
  root: string;
  success: boolean;
  errors: OtaIssue[];
  warnings: OtaIssue[];
}

/** Any OTA RS answer: `<Success/>` (maybe with `<Warnings>`) or `<Errors><Error .../></Errors>`. */
export function parseOtaResponse(xml: string): OtaResponse {
  const { name: rootName, root: r } = parseDocument(xml);
  const issues = (list: Node[]): OtaIssue[] =>
    list.map((e) => ({
      code: attr(e, "Code"),
      shortText: attr(e, "ShortText") ?? text(e),
      type: attr(e, "Type"),
    }));
  const errors = issues(children(child(r, "Errors"), "Error"));
  // An <Errors/> without entries is still a failure report.
  const failed = errors.length > 0 || "Errors" in r;
  return {
    root: rootName,
    success: "Success" in r && !failed,
    errors: failed && errors.length === 0 ? [{ shortText: "empty <Errors>" }] : errors,
    warnings: issues(children(child(r, "Warnings"), "Warning")),
  };
}

export interface RejectedReservation {
  reservationId?: string;
  reason: string;
}

/** A reservation read in full: what to acknowledge, and the bookings it became. */
export interface PulledReservation extends ReservationAck {
  channelBookingIds: string[];
}

export interface ParsedResNotif {
  /** One per room stay; a multi-room reservation's later rooms get ids "<id>-2", "<id>-3"… */
  bookings: ChannelBooking[];
  /** Reservations parsed in full: only these may be acknowledged. */
  reservations: PulledReservation[];
  /** Reservations that could not be read: left unacknowledged so they are not lost. */
  rejected: RejectedReservation[];
}

/**
 * The pulled `OTA_HotelResNotifRQ`. ResStatus Cancel → cancelled, Commit/Book/Modify → confirmed;
 * revision = LastModifyDateTime (CreateDateTime when never modified). `fallbackHotelCode` is the
 * hotel that was pulled, for messages that omit BasicPropertyInfo.
 */
export function parseHotelResNotifRQ(xml: string, fallbackHotelCode?: string): ParsedResNotif {
  const out: ParsedResNotif = { bookings: [], reservations: [], rejected: [] };
  if (xml.trim() === "") return out;
  const { name, root: r } = parseDocument(xml);
  if (name !== "OTA_HotelResNotifRQ") {
    throw new OtaParseError(`expected <OTA_HotelResNotifRQ>, got <${name}>`);
  }
  for (const res of children(child(r, "HotelReservations"), "HotelReservation")) {
    const parsed = parseReservation(res, fallbackHotelCode);
    if ("reason" in parsed) {
      out.rejected.push(parsed);
    } else {
      out.bookings.push(...parsed.bookings);
      out.reservations.push({
        ...parsed.ack,
        channelBookingIds: parsed.bookings.map((b) => b.channelBookingId),
      });
    }
  }
  return out;
}

const CONFIRMED_STATUSES = new Set(["Commit", "Book", "Modify"]);

function parseReservation(
  res: Node,
  fallbackHotelCode: string | undefined,
): { bookings: ChannelBooking[]; ack: ReservationAck } | RejectedReservation {
  const global = child(res, "ResGlobalInfo");
  const uniqueId = children(res, "UniqueID").find((u) => attr(u, "ID"));
  const resIdValue = children(child(global, "HotelReservationIDs"), "HotelReservationID")
    .map((h) => attr(h, "ResID_Value"))
    .find(Boolean);
  const reservationId = attr(uniqueId, "ID") ?? resIdValue;
  const reject = (reason: string): RejectedReservation => ({ reservationId, reason });
  if (!reservationId) return reject("no UniqueID ID or HotelReservationID ResID_Value");

  const resStatus = attr(res, "ResStatus");
  if (resStatus !== "Cancel" && !CONFIRMED_STATUSES.has(resStatus ?? "")) {
    return reject(`unknown ResStatus ${resStatus ?? "(none)"}`);
  }
  const modified = attr(res, "LastModifyDateTime") ?? attr(res, "CreateDateTime");
  const revision = modified ? Date.parse(modified) : NaN;
  if (Number.isNaN(revision)) return reject("no valid LastModifyDateTime");

  const stays = children(child(res, "RoomStays"), "RoomStay");
  if (stays.length === 0) return reject("no RoomStay");
  const hotelCode =
    attr(child(global, "BasicPropertyInfo"), "HotelCode") ??
    stays.map((s) => attr(child(s, "BasicPropertyInfo"), "HotelCode")).find(Boolean) ??
    fallbackHotelCode;
  if (!hotelCode) return reject("no HotelCode");
  const guestName = guestNameOf(res);

  const bookings: ChannelBooking[] = [];
  for (const [i, stay] of stays.entries()) {
    const room = children(child(stay, "RoomTypes"), "RoomType").find((t) =>
      attr(t, "RoomTypeCode"),
    );
    const roomId = attr(room, "RoomTypeCode");
    const span = child(stay, "TimeSpan") ?? child(global, "TimeSpan");
    const checkIn = dateOf(attr(span, "Start"));
    const checkOut = dateOf(attr(span, "End"));
    if (!roomId) return reject(`room stay ${i + 1}: no RoomTypeCode`);
    if (!checkIn || !checkOut || checkOut <= checkIn) {
      return reject(`room stay ${i + 1}: invalid TimeSpan`);
    }
    // A reservation-wide total belongs to the room only when there is just one room.
    const total = child(stay, "Total") ?? (stays.length === 1 ? child(global, "Total") : undefined);
    const amount = amountOf(total);
    const guestCount = guestCountOf(child(stay, "GuestCounts") ?? child(global, "GuestCounts"));
    bookings.push({
      platform: "booking_com",
      channelBookingId: i === 0 ? reservationId : `${reservationId}-${i + 1}`,
      externalPropertyId: hotelCode,
      externalRoomId: roomId,
      status: resStatus === "Cancel" ? "cancelled" : "confirmed",
      checkIn,
      checkOut,
      ...(guestName ? { guestName } : {}),
      ...(guestCount ? { guestCount } : {}),
      ...(amount ?? {}),
      revision,
    });
  }
  return { bookings, ack: { reservationId, hotelCode } };
}

/** "2025-06-01" or an xs:dateTime starting with the date. */
function dateOf(value: string | undefined): IsoDate | undefined {
  const date = value?.slice(0, 10);
  return date && isIsoDate(date) ? date : undefined;
}

function amountOf(total: Node | undefined): { amountMinor: number; currency: string } | undefined {
  const amount = attr(total, "AmountAfterTax") ?? attr(total, "AmountBeforeTax");
  const currency = attr(total, "CurrencyCode");
  if (!amount || !currency || !/^[A-Z]{3}$/.test(currency)) return undefined;
  const decimal = withImpliedDecimals(amount, attr(total, "DecimalPlaces"));
  const amountMinor = decimalToMinor(decimal, currency);
  return amountMinor === null ? undefined : { amountMinor, currency };
}

/** OTA DecimalPlaces: an integer amount with implied decimals ("12000", 2 → "120.00"). */
function withImpliedDecimals(amount: string, places: string | undefined): string {
  const n = Number(places ?? "0");
  if (!Number.isInteger(n) || n <= 0 || !/^\d+$/.test(amount)) return amount;
  const digits = amount.padStart(n + 1, "0");
  return `${digits.slice(0, -n)}.${digits.slice(-n)}`;
}

function guestCountOf(counts: Node | undefined): number | undefined {
  const total = children(counts, "GuestCount").reduce((sum, g) => {
    const n = Number(attr(g, "Count") ?? "0");
    return Number.isInteger(n) && n > 0 ? sum + n : sum;
  }, 0);
  return total > 0 ? total : undefined;
}

function guestNameOf(res: Node): string | undefined {
  const guest = children(child(res, "ResGuests"), "ResGuest")[0];
  const profile = children(child(guest, "Profiles"), "ProfileInfo")[0];
  const person = path(profile, "Profile", "Customer", "PersonName");
  const given = children(person, "GivenName")
    .map(text)
    .filter((s): s is string => Boolean(s));
  const name = [...given, text(child(person, "Surname"))].filter(Boolean).join(" ").trim();
  return name || undefined;
}
