import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../kit/app-env";
import { calendarReadback } from "../kit/calendar-readback";
import { invalid, readBody } from "../kit/control-body";
import { currency, id, money } from "../kit/control-schemas";
import type { UnitRow } from "../kit/store/types";
import { platformState } from "../platform-state";
import { bookingProfile } from "./profile";

/**
 * Control routes of the Booking.com simulator (mounted at /_sandbox/booking_com): hotels, their
 * rooms, whether they authorise the channel's machine account, and a room's calendar as
 * Booking.com shows it. Guests, faults, webhooks and logs are the kit's shared routes.
 */
export const bookingControl = new Hono<AppEnv>();

const state = (c: Context<AppEnv>) => platformState(c.env, bookingProfile.name);
const ID = /^[A-Za-z0-9_-]{1,32}$/;

export const roomBody = z.strictObject({
  units: z.number().int().min(0).max(999).optional(),
  rate_plan_id: id.optional(),
  price: money.optional(),
  currency: currency.optional(),
});

export const hotelBody = z.strictObject({ authorised: z.boolean().optional() });

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
  const put = await state(c).putHotel(hotel, body.data.authorised);
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

/** The room's calendar: rooms to sell and the closed flag, as the ARI messages set them. */
bookingControl.get("/hotels/:hotel/rooms/:room/calendar", (c) =>
  calendarReadback(c, bookingProfile, c.req.param("hotel"), c.req.param("room"), (d) => ({
    rooms_to_sell: d.rooms_to_sell,
    closed: d.closed,
  })),
);
