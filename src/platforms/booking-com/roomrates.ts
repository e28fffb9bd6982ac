import { XMLParser } from "fast-xml-parser";
import { el, xmlDocument } from "../kit/xml";

/**
 * Booking.com's B.XML `roomrates` read: which rooms and rate plans a hotel has, as the connected
 * machine account may see them. The engine uses it to confirm a mapping names a room or rate of
 * the connection's own hotel (sandbox/README.md has the shape the simulator answers).
 */

export function roomRatesRequest(hotelId: string): string {
  return xmlDocument(el("request", {}, el("hotel_id", {}, hotelId)));
}

export interface RoomRates {
  rooms: Set<string>;
  rates: Set<string>;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseAttributeValue: false,
  parseTagValue: false,
  processEntities: false,
  isArray: (name) => name === "room" || name === "rate",
});

type Node = Record<string, unknown>;

const nodes = (v: unknown): Node[] =>
  (Array.isArray(v) ? v : []).filter((x): x is Node => typeof x === "object" && x !== null);

/** The room and rate ids of a `<roomrates>` answer; null when the answer is not one. */
export function parseRoomRates(xml: string): RoomRates | null {
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch {
    return null;
  }
  const root = doc.roomrates;
  if (root === undefined) return null;
  const out: RoomRates = { rooms: new Set(), rates: new Set() };
  for (const room of nodes(typeof root === "object" && root ? (root as Node).room : undefined)) {
    const id = room["@id"];
    if (typeof id === "string") out.rooms.add(id);
    const rates = room.rates;
    for (const rate of nodes(typeof rates === "object" && rates ? (rates as Node).rate : [])) {
      if (typeof rate["@id"] === "string") out.rates.add(rate["@id"]);
    }
  }
  return out;
}
