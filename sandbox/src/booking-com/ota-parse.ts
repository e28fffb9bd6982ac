import {
  attribute as attr,
  childElement as child,
  childElements as children,
  parseXml,
  XmlError,
  type XmlDocument,
  type XmlNode,
} from "../kit/xml";
import { OTA_NS, type OtaError } from "./ota-xml";

/**
 * Elements of the messages read here that may repeat (the containers too, so a repeated one is
 * counted and refused): always arrays after parsing.
 */
const REPEATED: ReadonlySet<string> = new Set([
  "AvailStatusMessages",
  "AvailStatusMessage",
  "RateAmountMessages",
  "RateAmountMessage",
  "StatusApplicationControl",
  "Rates",
  "Rate",
  "BaseByGuestAmt",
  "HotelReservation",
  "HotelReservationID",
  "UniqueID",
]);

export type ParsedOta =
  { ok: true; root: XmlNode; echoToken?: string } | { ok: false; error: OtaError };

function protocolError(message: string): { ok: false; error: OtaError } {
  return { ok: false, error: { type: 7, code: "450", shortText: "INVALID_XML", message } };
}

/** Well-formed, the expected root element, in the OTA namespace; otherwise an HTTP 400. */
export function parseOtaRequest(xml: string, expectedRoot: string): ParsedOta {
  let doc: XmlDocument;
  try {
    doc = parseXml(xml, REPEATED);
  } catch (err) {
    if (err instanceof XmlError) return protocolError(`Malformed XML: ${err.message}`);
    throw err;
  }
  if (doc.name !== expectedRoot) {
    return protocolError(`Unexpected root element ${doc.name}, expected ${expectedRoot}`);
  }
  if (doc.namespace !== OTA_NS) {
    return protocolError(`${expectedRoot} must be in the namespace ${OTA_NS}`);
  }
  const root = doc.root;
  const echo = attr(root, "EchoToken");
  return echo === undefined ? { ok: true, root } : { ok: true, root, echoToken: echo };
}

/** The date/room/rate selection of one ARI message, as written (validated later). */
export interface RawControl {
  count: number;
  start?: string;
  end?: string;
  roomId?: string;
  ratePlanId?: string;
}

function readControl(message: XmlNode): RawControl {
  const controls = children(message, "StatusApplicationControl");
  const c = controls[0];
  return {
    count: controls.length,
    start: attr(c, "Start"),
    end: attr(c, "End"),
    roomId: attr(c, "InvTypeCode"),
    ratePlanId: attr(c, "RatePlanCode"),
  };
}

export interface RawAvailMessage extends RawControl {
  bookingLimit?: string;
  status?: string;
  restriction?: string;
}

export interface RawAriRequest<M> {
  /** Number of AvailStatusMessages / RateAmountMessages containers (the XSD allows one). */
  containers: number;
  hotelCode?: string;
  messages: M[];
}

export function readAvailNotif(root: XmlNode): RawAriRequest<RawAvailMessage> {
  const containers = children(root, "AvailStatusMessages");
  const box = containers[0];
  return {
    containers: containers.length,
    hotelCode: attr(box, "HotelCode"),
    messages: children(box, "AvailStatusMessage").map((m) => {
      const restriction = child(m, "RestrictionStatus");
      return {
        ...readControl(m),
        bookingLimit: attr(m, "BookingLimit"),
        status: attr(restriction, "Status"),
        restriction: attr(restriction, "Restriction"),
      };
    }),
  };
}

export interface RawRateMessage extends RawControl {
  amount?: string;
  currency?: string;
}

export function readRateAmountNotif(root: XmlNode): RawAriRequest<RawRateMessage> {
  const containers = children(root, "RateAmountMessages");
  const box = containers[0];
  return {
    containers: containers.length,
    hotelCode: attr(box, "HotelCode"),
    messages: children(box, "RateAmountMessage").map((m) => {
      const amount = children(m, "Rates")
        .flatMap((rates) => children(rates, "Rate"))
        .flatMap((rate) => children(child(rate, "BaseByGuestAmts"), "BaseByGuestAmt"))[0];
      return {
        ...readControl(m),
        amount: attr(amount, "AmountAfterTax") ?? attr(amount, "AmountBeforeTax"),
        currency: attr(amount, "CurrencyCode"),
      };
    }),
  };
}

/** Reservation ids an OTA_HotelResNotifRS acknowledges; none when it reports Errors instead. */
export function readAcknowledgement(root: XmlNode): { success: boolean; ids: string[] } {
  const ids = new Set<string>();
  for (const res of children(child(root, "HotelReservations"), "HotelReservation")) {
    const global = children(
      child(child(res, "ResGlobalInfo"), "HotelReservationIDs"),
      "HotelReservationID",
    )
      .map((id) => attr(id, "ResID_Value"))
      .filter((v): v is string => !!v);
    const unique = attr(child(res, "UniqueID"), "ID");
    for (const id of global.length ? global : unique ? [unique] : []) ids.add(id);
  }
  return { success: child(root, "Success") !== undefined, ids: [...ids] };
}
