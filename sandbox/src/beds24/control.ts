import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../kit/app-env";
import { calendarReadback } from "../kit/calendar-readback";
import { invalid, readBody } from "../kit/control-body";
import { accountName as account, currency, money } from "../kit/control-schemas";
import { platformState } from "../platform-state";
import { beds24Profile } from "./profile";

/**
 * Control routes of the Beds24 simulator (mounted at /_sandbox/beds24): rooms of properties and
 * their accounts, invite codes, credits, and a room's calendar as Beds24 shows it. Faults, request
 * log and received bodies are the kit's shared /_sandbox/:platform routes.
 */
export const beds24Control = new Hono<AppEnv>();

const state = (c: Context<AppEnv>) => platformState(c.env, beds24Profile.name);
/** Beds24 ids are integers: no leading zero. */
const digits = z.string().regex(/^[1-9]\d{0,9}$/, "Beds24 ids are integers of 1-10 digits");

export const beds24RoomBody = z.strictObject({
  account: account.optional(),
  units: z.number().int().min(0).max(999).optional(),
  price: money.optional(),
  currency: currency.optional(),
});

export const inviteCodeBody = z.strictObject({ account: account.optional() });
export const spendBody = z.strictObject({ spend: z.number().positive().max(1000) });

/**
 * Create or update a room of a property. Room ids are unique across properties and a property
 * belongs to one account, as in Beds24: either conflict is a 409. A new property takes `account`
 * (default: the account BEDS24_REFRESH_TOKEN belongs to).
 */
beds24Control.put("/properties/:prop_id/rooms/:room_id", async (c) => {
  const prop = c.req.param("prop_id");
  const room = c.req.param("room_id");
  if (!digits.safeParse(prop).success || !digits.safeParse(room).success) {
    return invalid(c, "Beds24 property and room ids are integers of 1-10 digits");
  }
  const body = await readBody(c, beds24RoomBody);
  if (!body.ok) return body.response;
  const { account: owner, ...patch } = body.data;
  const put = await state(c).putRoom(prop, room, patch, owner);
  if (!put.ok) return c.json({ error: "conflict", message: put.message }, 409);
  return c.json({
    room: {
      property_id: prop,
      room_id: room,
      account: put.account,
      units: put.room.units,
      price: put.room.price,
      currency: put.room.currency,
    },
  });
});

/** A single-use invite code for an account (a new account when none is named). */
beds24Control.post("/invite-codes", async (c) => {
  const body = await readBody(c, inviteCodeBody);
  if (!body.ok) return body.response;
  const owner = body.data.account ?? `acct_${crypto.randomUUID().slice(0, 8)}`;
  return c.json({ code: await state(c).createInviteCode(owner), account: owner }, 201);
});

beds24Control.get("/accounts/:account/credits", async (c) => {
  const name = c.req.param("account");
  if (!account.safeParse(name).success) return invalid(c, "bad account name");
  return c.json({ credits: await state(c).credits(name) });
});

/** Spend credits as another API client of the account would (a nearly spent account). */
beds24Control.post("/accounts/:account/credits", async (c) => {
  const name = c.req.param("account");
  if (!account.safeParse(name).success) return invalid(c, "bad account name");
  const body = await readBody(c, spendBody);
  if (!body.ok) return body.response;
  return c.json({ credits: await state(c).spendCredits(name, body.data.spend) });
});

/** Forget the account's spends, as if five minutes had passed. */
beds24Control.delete("/accounts/:account/credits", async (c) => {
  const name = c.req.param("account");
  if (!account.safeParse(name).success) return invalid(c, "bad account name");
  return c.json({ credits: await state(c).clearCredits(name) });
});

/** The room's calendar: `num_avail` is what the calendar POSTs set. */
beds24Control.get("/properties/:prop/rooms/:room/calendar", (c) =>
  calendarReadback(c, beds24Profile, c.req.param("prop"), c.req.param("room"), (d) => ({
    num_avail: d.rooms_to_sell,
  })),
);
