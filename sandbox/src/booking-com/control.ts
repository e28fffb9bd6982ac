import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env";
import { invalid, readBody } from "../control/body";
import { hotelBody, roomBody } from "../control/schemas";
import { platformState } from "../state/platform-state";
import type { UnitRow } from "../state/types";

/**
 * Control routes of the Booking.com simulator (mounted at /_sandbox/booking_com): hotels, their
 * rooms and whether they authorise the channel's machine account.
 */
export const bookingControl = new Hono<AppEnv>();

const state = (c: Context<AppEnv>) => platformState(c.env, "booking_com");
const ID = /^[A-Za-z0-9_-]{1,32}$/;

function roomJson(unit: UnitRow) {
  return {
    hotel_id: unit.property_id,
    room_id: unit.unit_id,
    units: unit.units,
    rate_plan_id: unit.rate_plan_id,
    price: unit.price,
    currency: unit.currency,
  };
}

/** Create a hotel record or change its authorisation (a new hotel authorises the channel). */
bookingControl.put("/hotels/:hotel_id", async (c) => {
  const hotel = c.req.param("hotel_id");
  if (!ID.test(hotel)) return invalid(c, "hotel ids must be 1-32 letters, digits, _ or -");
  const body = await readBody(c, hotelBody);
  if (!body.ok) return body.response;
  const put = await state(c).bookingPutHotel(hotel, body.data.authorised);
  return c.json({ hotel_id: hotel, authorised: put.authorised, rooms: put.rooms.map(roomJson) });
});

bookingControl.put("/hotels/:hotel_id/rooms/:room_id", async (c) => {
  const hotel = c.req.param("hotel_id");
  const room = c.req.param("room_id");
  if (!ID.test(hotel) || !ID.test(room)) {
    return invalid(c, "hotel and room ids must be 1-32 letters, digits, _ or -");
  }
  const body = await readBody(c, roomBody);
  if (!body.ok) return body.response;
  const unit = await state(c).upsertUnit(hotel, room, body.data);
  return c.json({ room: roomJson(unit) });
});
