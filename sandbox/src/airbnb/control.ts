import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../kit/app-env";
import { calendarReadback } from "../kit/calendar-readback";
import { invalid, readBody } from "../kit/control-body";
import { accountName, currency, money } from "../kit/control-schemas";
import { platformState } from "../platform-state";
import { airbnbProfile } from "./profile";

/**
 * Control routes of the Airbnb simulator (mounted at /_sandbox/airbnb): host accounts, their
 * listings and a listing's calendar as Airbnb shows it. Guests, faults, webhooks and logs are the
 * kit's shared /_sandbox/:platform routes.
 */
export const airbnbControl = new Hono<AppEnv>();

const state = (c: Context<AppEnv>) => platformState(c.env, airbnbProfile.name);

export const listingBody = z.strictObject({
  nightly_price: money.optional(),
  currency: currency.optional(),
  account: accountName.optional(),
});

export const accountBody = z.strictObject({ account: accountName.optional() });

/** A host account and its refresh token; naming an existing account answers its token again. */
airbnbControl.post("/accounts", async (c) => {
  const body = await readBody(c, accountBody);
  if (!body.ok) return body.response;
  const r = await state(c).createAccount(body.data.account ?? null, c.env.AIRBNB_REFRESH_TOKEN);
  return c.json({ account: r.account, refresh_token: r.refresh_token }, r.created ? 201 : 200);
});

/** Create/update a listing; `account` on an existing listing transfers it to that host. */
airbnbControl.put("/listings/:listing_id", async (c) => {
  const id = c.req.param("listing_id");
  if (!/^\d{1,20}$/.test(id)) return invalid(c, "Airbnb listing ids are numeric");
  const body = await readBody(c, listingBody);
  if (!body.ok) return body.response;
  const { nightly_price, currency, account } = body.data;
  const put = await state(c).putListing(
    id,
    { price: nightly_price, currency },
    account,
    c.env.AIRBNB_REFRESH_TOKEN,
  );
  if (!put.ok) return c.json({ error: "not_found", message: `unknown account ${account}` }, 404);
  return c.json({
    listing: {
      listing_id: id,
      account: put.account,
      nightly_price: put.unit.price,
      currency: put.unit.currency,
    },
  });
});

/** The listing's calendar: `reserved` marks nights a confirmed reservation covers. */
airbnbControl.get("/listings/:id/calendar", (c) => {
  const id = c.req.param("id");
  return calendarReadback(c, airbnbProfile, id, id, (d) => ({ reserved: d.reserved }));
});
