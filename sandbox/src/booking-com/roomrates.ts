import { childElement, parseXml, textContent, XmlError, type XmlDocument } from "../kit/xml";
import type { UnitRow } from "../kit/store/types";
import { escapeXml } from "./ota-xml";

/**
 * The room/rate read (`POST /hotels/xml/roomrates`), in Booking.com's own XML rather than OTA: no
 * namespace, lower-case elements, `<error>` bodies. Pure, like ota-xml.ts.
 *
 * Request: `<request><hotel_id>H</hotel_id></request>`. Answer: one `<room>` per room of the
 * hotel, its `<rates>` holding the room's configured rate plan (empty when it has none).
 */

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export type RoomRatesRequest = { ok: true; hotelId: string } | { ok: false; message: string };

export function parseRoomRatesRequest(xml: string): RoomRatesRequest {
  let doc: XmlDocument;
  try {
    doc = parseXml(xml, new Set());
  } catch (err) {
    if (err instanceof XmlError) return { ok: false, message: `Malformed XML: ${err.message}` };
    throw err;
  }
  if (doc.name !== "request" || doc.namespace !== null) {
    return { ok: false, message: `Unexpected root element ${doc.name}, expected request` };
  }
  const hotelId = textContent(childElement(doc.root, "hotel_id"));
  if (!hotelId) return { ok: false, message: "hotel_id is required" };
  return { ok: true, hotelId };
}

function room(unit: UnitRow): string {
  const rates = unit.rate_plan_id
    ? `<rates><rate id="${escapeXml(unit.rate_plan_id)}" rate_name="Rate ${escapeXml(unit.rate_plan_id)}"/></rates>`
    : "<rates/>";
  const id = escapeXml(unit.unit_id);
  return `<room id="${id}" hotel_id="${escapeXml(unit.property_id)}" room_name="Room ${id}">${rates}</room>`;
}

export function buildRoomRates(rooms: readonly UnitRow[]): string {
  return `${DECLARATION}<roomrates>${rooms.map(room).join("")}</roomrates>`;
}

export function buildBxmlError(code: number, message: string): string {
  return `${DECLARATION}<error><code>${code}</code><message>${escapeXml(message)}</message></error>`;
}
