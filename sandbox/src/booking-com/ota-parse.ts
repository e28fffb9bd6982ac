import {
  childElement as child,
  childElements as children,
  parseXml,
  type XmlElement,
  XmlError,
} from "../lib/xml";
import { OTA_NS, type OtaError } from "./ota-xml";

export type ParsedOta =
  { ok: true; root: XmlElement; echoToken?: string } | { ok: false; error: OtaError };

function protocolError(message: string): { ok: false; error: OtaError } {
  return { ok: false, error: { type: 7, code: "450", shortText: "INVALID_XML", message } };
}

/** Well-formed, the expected root element, in the OTA namespace; otherwise an HTTP 400. */
export function parseOtaRequest(xml: string, expectedRoot: string): ParsedOta {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    if (err instanceof XmlError) return protocolError(`Malformed XML: ${err.message}`);
    throw err;
  }
  if (root.name !== expectedRoot) {
    return protocolError(`Unexpected root element ${root.name}, expected ${expectedRoot}`);
  }
  if (root.namespace !== OTA_NS) {
    return protocolError(`${expectedRoot} must be in the namespace ${OTA_NS}`);
  }
  const echo = root.attrs.EchoToken;
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

function readControl(message: XmlElement): RawControl {
  const controls = children(message, "StatusApplicationControl");
  const c = controls[0]?.attrs;
  return {
    count: controls.length,
    start: c?.Start,
    end: c?.End,
    roomId: c?.InvTypeCode,
    ratePlanId: c?.RatePlanCode,
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

export function readAvailNotif(root: XmlElement): RawAriRequest<RawAvailMessage> {
  const containers = children(root, "AvailStatusMessages");
  const box = containers[0];
  return {
    containers: containers.length,
    hotelCode: box?.attrs.HotelCode,
    messages: children(box, "AvailStatusMessage").map((m) => {
      const restriction = child(m, "RestrictionStatus")?.attrs;
      return {
        ...readControl(m),
        bookingLimit: m.attrs.BookingLimit,
        status: restriction?.Status,
        restriction: restriction?.Restriction,
      };
    }),
  };
}

export interface RawRateMessage extends RawControl {
  amount?: string;
  currency?: string;
}

export function readRateAmountNotif(root: XmlElement): RawAriRequest<RawRateMessage> {
  const containers = children(root, "RateAmountMessages");
  const box = containers[0];
  return {
    containers: containers.length,
    hotelCode: box?.attrs.HotelCode,
    messages: children(box, "RateAmountMessage").map((m) => {
      const amount = children(m, "Rates")
        .flatMap((rates) => children(rates, "Rate"))
        .flatMap((rate) => children(child(rate, "BaseByGuestAmts"), "BaseByGuestAmt"))[0]?.attrs;
      return {
        ...readControl(m),
        amount: amount?.AmountAfterTax ?? amount?.AmountBeforeTax,
        currency: amount?.CurrencyCode,
      };
    }),
  };
}

/** Reservation ids an OTA_HotelResNotifRS acknowledges; none when it reports Errors instead. */
export function readAcknowledgement(root: XmlElement): { success: boolean; ids: string[] } {
  const ids = new Set<string>();
  for (const res of children(child(root, "HotelReservations"), "HotelReservation")) {
    const global = children(
      child(child(res, "ResGlobalInfo"), "HotelReservationIDs"),
      "HotelReservationID",
    )
      .map((id) => id.attrs.ResID_Value)
      .filter((v): v is string => !!v);
    const unique = child(res, "UniqueID")?.attrs.ID;
    for (const id of global.length ? global : unique ? [unique] : []) ids.add(id);
  }
  return { success: child(root, "Success") !== undefined, ids: [...ids] };
}
