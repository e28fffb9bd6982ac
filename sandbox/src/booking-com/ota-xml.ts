/**
 * OTA 2015B XML that the Booking.com simulator writes. Pure string builders, no runtime
 * dependencies, so a Node test can validate their output against the XSDs in shared/schemas.
 * Element order follows the XSD sequences (OTA_HotelReservation.xsd, OTA_HotelCommonTypes.xsd).
 */

export const OTA_NS = "http://www.opentravel.org/OTA/2003/05";
const VERSION = "1.0";

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function attrs(values: Record<string, string | number | undefined | null>): string {
  return Object.entries(values)
    .filter(
      (entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== null,
    )
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join("");
}

function open(root: string, opts: { timestamp: string; echoToken?: string }): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${attrs({
    xmlns: OTA_NS,
    EchoToken: opts.echoToken,
    TimeStamp: opts.timestamp,
    Version: VERSION,
  })}>`;
}

/** One OTA error. `Code` is an OTA ERR code; `ShortText` carries Booking.com's symbolic name. */
export interface OtaError {
  /** OTA EWT code: 3 business rule, 4 authentication, 7 protocol violation, 12 processing. */
  type: number;
  code: string;
  shortText: string;
  message: string;
}

export function buildOtaSuccess(
  root: string,
  opts: { timestamp: string; echoToken?: string; warnings?: OtaError[] },
): string {
  const warnings = opts.warnings?.length
    ? `<Warnings>${opts.warnings.map((w) => `<Warning${attrs({ Type: w.type, Code: w.code, ShortText: w.shortText })}>${escapeXml(w.message)}</Warning>`).join("")}</Warnings>`
    : "";
  return `${open(root, opts)}<Success/>${warnings}</${root}>`;
}

export function buildOtaErrors(
  root: string,
  errors: OtaError[],
  opts: { timestamp: string; echoToken?: string },
): string {
  // An OTA ErrorsType holds at most 99 errors.
  const items = errors
    .slice(0, 99)
    .map(
      (e) =>
        `<Error${attrs({ Type: e.type, Code: e.code, ShortText: e.shortText })}>${escapeXml(e.message)}</Error>`,
    )
    .join("");
  return `${open(root, opts)}<Errors>${items}</Errors></${root}>`;
}

export type ResStatus = "Commit" | "Modify" | "Cancel";

/** A reservation as the pull endpoint reports it. */
export interface ResNotifReservation {
  reservationId: string;
  hotelId: string;
  roomId: string;
  ratePlanId?: string | null;
  resStatus: ResStatus;
  /** ISO date-times. */
  createdAt: string;
  lastModifiedAt: string;
  /** Check-in date. */
  start: string;
  /** Check-out date (exclusive). */
  end: string;
  guests: number;
  /** Decimal string, e.g. "450.00". */
  total: string;
  currency: string;
  givenName?: string | null;
  surname: string;
}

function hotelReservation(r: ResNotifReservation): string {
  const ratePlans = r.ratePlanId
    ? `<RatePlans><RatePlan${attrs({ RatePlanCode: r.ratePlanId })}/></RatePlans>`
    : "";
  const given = r.givenName ? `<GivenName>${escapeXml(r.givenName)}</GivenName>` : "";
  return (
    `<HotelReservation${attrs({ CreateDateTime: r.createdAt, LastModifyDateTime: r.lastModifiedAt, ResStatus: r.resStatus })}>` +
    `<UniqueID${attrs({ Type: 14, ID: r.reservationId })}/>` +
    `<RoomStays><RoomStay>` +
    `<RoomTypes><RoomType${attrs({ RoomTypeCode: r.roomId })}/></RoomTypes>` +
    ratePlans +
    `<GuestCounts><GuestCount${attrs({ AgeQualifyingCode: 10, Count: Math.max(1, r.guests) })}/></GuestCounts>` +
    `<TimeSpan${attrs({ Start: r.start, End: r.end })}/>` +
    `<Total${attrs({ AmountAfterTax: r.total, CurrencyCode: r.currency })}/>` +
    `<BasicPropertyInfo${attrs({ HotelCode: r.hotelId })}/>` +
    `</RoomStay></RoomStays>` +
    `<ResGuests><ResGuest${attrs({ ResGuestRPH: 1, PrimaryIndicator: "true" })}><Profiles><ProfileInfo><Profile><Customer><PersonName>` +
    `${given}<Surname>${escapeXml(r.surname)}</Surname>` +
    `</PersonName></Customer></Profile></ProfileInfo></Profiles></ResGuest></ResGuests>` +
    `<ResGlobalInfo>` +
    `<HotelReservationIDs><HotelReservationID${attrs({ ResID_Type: 14, ResID_Value: r.reservationId })}/></HotelReservationIDs>` +
    // The XSD requires BasicPropertyInfo after the ResGlobalInfoType content.
    `<BasicPropertyInfo${attrs({ HotelCode: r.hotelId })}/>` +
    `</ResGlobalInfo>` +
    `</HotelReservation>`
  );
}

/**
 * The pull answer: every reservation not acknowledged since its last change. With none pending the
 * optional HotelReservations element is left out (the XSD requires at least one child in it).
 */
export function buildHotelResNotifRQ(input: {
  timestamp: string;
  echoToken?: string;
  reservations: ResNotifReservation[];
}): string {
  const body = input.reservations.length
    ? `<HotelReservations>${input.reservations.map(hotelReservation).join("")}</HotelReservations>`
    : "";
  return `${open("OTA_HotelResNotifRQ", input)}${body}</OTA_HotelResNotifRQ>`;
}
