import type { Context } from "hono";
import { platformState } from "../platform-state";
import type { AppEnv } from "./app-env";
import { invalid } from "./control-body";
import { parseRange } from "./dates";
import type { PlatformProfile } from "./simulator";
import { type DayView, isSellable } from "./store/calendar";

/**
 * A unit's calendar as the platform shows it (`GET /_sandbox/<name>/.../calendar?start&end`, for
 * propagation measurements): every night's sellability, the platform's own fields (`extra`),
 * price and the time of the last API write.
 */
export async function calendarReadback(
  c: Context<AppEnv>,
  profile: PlatformProfile,
  propertyId: string,
  unitId: string,
  extra: (d: DayView) => Record<string, unknown>,
) {
  const range = parseRange(c.req.query("start"), c.req.query("end"), ["start", "end"]);
  if (!range.ok) return invalid(c, range.message);
  const days = await platformState(c.env, profile.name).readCalendar(
    propertyId,
    unitId,
    range.start,
    range.end,
    profile.inventory,
  );
  if (!days) return c.json({ error: "not_found" }, 404);
  return c.json({
    days: days.map((d) => ({
      date: d.date,
      available: isSellable(d),
      ...extra(d),
      price: d.price,
      currency: d.currency,
      updated_at: d.updated_at,
    })),
  });
}
