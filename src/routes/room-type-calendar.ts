import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, requireTenantAuth } from "../http/auth";
import { engineConfig } from "../config";
import {
  applyCalendarUpdate,
  calendarWindow,
  CalendarConflictError,
  effectivePrice,
  loadCalendarRoomType,
  loadNightsBetween,
  type CalendarRoomType,
  type NightUpdate,
} from "../domain/calendar-updates";
import { addDays, daysBetween, isIsoDate } from "../domain/dates";
import { ApiError } from "../http/errors";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  IdParam,
  jsonBody,
  ok,
  WRITE_ERRORS,
} from "../http/openapi";
import { errorMessage, log } from "../lib/log";
import { deleteRelayed, relayOutboxFor, relayOutboxForRoomType } from "../queue/outbox";

/** Most nights one PUT may carry. */
export const MAX_CALENDAR_NIGHTS = 1000;
/** Longest GET range, in days (both ends included). */
export const MAX_CALENDAR_READ_DAYS = 366;

const IsoDateString = z
  .string()
  .refine(isIsoDate, "must be a date YYYY-MM-DD")
  .openapi({ example: "2026-12-01", format: "date" });

const NightUpdateItem = z
  .object({
    date: IsoDateString.openapi({
      description:
        "Local date of the night at the property; from yesterday up to today + SYNC_HORIZON_DAYS",
    }),
    blocked: z.number().int().min(0).max(10_000).optional().openapi({
      example: 1,
      description:
        "Units the owner closes on this night (absolute, not a delta); absent: unchanged",
    }),
    price_minor: z.number().int().min(0).max(100_000_000).nullable().optional().openapi({
      example: 12000,
      description:
        "Nightly price override in minor units (cents); null clears it (back to the room type's base price); absent: unchanged",
    }),
  })
  .refine((n) => n.blocked !== undefined || n.price_minor !== undefined, {
    message: "give at least one of blocked, price_minor",
  });

const CalendarUpdateBody = z
  .object({
    nights: z
      .array(NightUpdateItem)
      .min(1, "give at least one night")
      .max(MAX_CALENDAR_NIGHTS, `at most ${MAX_CALENDAR_NIGHTS} nights per request`)
      .superRefine((nights, ctx) => {
        const seen = new Map<string, number>();
        nights.forEach((n, i) => {
          const first = seen.get(n.date);
          if (first === undefined) seen.set(n.date, i);
          else {
            ctx.addIssue({
              code: "custom",
              path: [i, "date"],
              message: `duplicate date ${n.date} (also nights.${first})`,
            });
          }
        });
      }),
  })
  .openapi("CalendarUpdate");

const CalendarUpdateResult = z
  .object({
    data: z.object({
      room_type_id: z.string().openapi({ example: "rt_8c02…" }),
      nights: z.number().int().openapi({ description: "Nights received" }),
      availability_changed: z
        .number()
        .int()
        .openapi({ description: "Nights whose blocked units changed" }),
      price_changed: z
        .number()
        .int()
        .openapi({ description: "Nights whose effective price (override ?? base) changed" }),
      cause_key: z.string().openapi({
        example: "calendar:7d1e0c7a-…",
        description: "Key of the outbox rows this update wrote (none when nothing changed)",
      }),
    }),
  })
  .openapi("CalendarUpdateResult");

const CalendarQuery = z.object({
  from: IsoDateString.openapi({
    param: { name: "from", in: "query" },
    description: "First night, YYYY-MM-DD",
  }),
  to: IsoDateString.openapi({
    param: { name: "to", in: "query" },
    description: `Last night (included), YYYY-MM-DD; at most ${MAX_CALENDAR_READ_DAYS} days from \`from\``,
  }),
});

const CalendarNight = z
  .object({
    date: z.string().openapi({ example: "2026-12-01" }),
    capacity: z.number().int(),
    booked: z.number().int(),
    blocked: z.number().int(),
    available: z.number().int().openapi({ description: "capacity − booked − blocked, at least 0" }),
    price_minor: z.number().int().nullable().openapi({
      description: "Effective nightly price: the night's override, else the base price",
    }),
    currency: z.string().nullable().openapi({ example: "EUR" }),
  })
  .openapi("CalendarNight");

const notFound = (id: string) => new ApiError(404, "not_found", `room type ${id} not found`);

async function ownRoomType(db: D1Database, tenantId: string, id: string) {
  const roomType = await loadCalendarRoomType(db, tenantId, id);
  if (!roomType) throw notFound(id);
  return roomType;
}

/** 422 in the validation hook's shape, for the rules that need the room type to check. */
function bodyInvalid(issues: Array<{ path: string; message: string }>): ApiError {
  const first = issues[0];
  return new ApiError(
    422,
    "validation_failed",
    `body is invalid: ${first ? `${first.path}: ${first.message}` : "unknown"}`,
    issues,
  );
}

function checkNights(roomType: CalendarRoomType, updates: NightUpdate[], env: Env, now: number) {
  const horizon = engineConfig(env).syncHorizonDays;
  const window = calendarWindow(roomType.timeZone, now, horizon);
  const issues: Array<{ path: string; message: string }> = [];
  updates.forEach((u, i) => {
    if (u.date < window.from || u.date > window.to) {
      issues.push({
        path: `nights.${i}.date`,
        message: `${u.date} is outside ${window.from}..${window.to} (yesterday to today + ${horizon} days in ${roomType.timeZone})`,
      });
    }
    if (u.priceMinor != null && roomType.currency === null) {
      issues.push({
        path: `nights.${i}.price_minor`,
        message: `room type ${roomType.id} has no currency, so its nights cannot be priced`,
      });
    }
  });
  if (issues.length > 0) throw bodyInvalid(issues);
}

/** Apply the update; nights over capacity are a 409 naming each of them, with nothing applied. */
async function applyOr409(
  db: D1Database,
  roomType: CalendarRoomType,
  updates: NightUpdate[],
  now: number,
) {
  try {
    return await applyCalendarUpdate(db, roomType, updates, now);
  } catch (err) {
    if (!(err instanceof CalendarConflictError)) throw err;
    throw new ApiError(
      409,
      "conflict",
      err.message,
      err.conflicts.map((x) => ({
        path: `nights.${x.index}.blocked`,
        message: `${x.date}: booked ${x.booked} + blocked ${x.blocked} > capacity ${x.capacity}`,
      })),
    );
  }
}

/** Rows an earlier request of this room type left behind go out now, not with the cron. */
async function relayLeftovers(env: Env, tenantId: string, roomTypeId: string) {
  try {
    await relayOutboxForRoomType(env, tenantId, roomTypeId);
  } catch (err) {
    log("warn", "calendar.relay_failed", { roomTypeId, error: errorMessage(err) });
  }
}

/** Fan out right after commit, like the inbound consumer; the cron relay covers a failure here. */
async function relayNow(env: Env, causeKey: string) {
  try {
    const relayed = await relayOutboxFor(env, causeKey);
    if (relayed.length > 0) await env.DB.batch(deleteRelayed(env.DB, relayed));
  } catch (err) {
    log("warn", "calendar.relay_failed", { causeKey, error: errorMessage(err) });
  }
}

const tags = ["Calendar"];

/** /api/v1/room-types/{id}/calendar: a PMS's availability blocks and nightly prices. */
export const roomTypeCalendar = createRouter();
roomTypeCalendar.use("*", requireTenantAuth);
roomTypeCalendar
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/calendar",
      tags,
      summary: `A room type's nights from \`from\` to \`to\` (at most ${MAX_CALENDAR_READ_DAYS} days), untouched nights included`,
      security: BEARER,
      request: { params: IdParam, query: CalendarQuery },
      responses: {
        200: ok("Every night of the range", z.object({ data: z.array(CalendarNight) })),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { from, to } = c.req.valid("query");
      const days = daysBetween(from, to) + 1;
      if (days < 1 || days > MAX_CALENDAR_READ_DAYS) {
        const message =
          days < 1
            ? "must be on or after from"
            : `at most ${MAX_CALENDAR_READ_DAYS} days from from`;
        throw new ApiError(400, "validation_failed", `query is invalid: to: ${message}`, [
          { path: "to", message },
        ]);
      }
      const roomType = await ownRoomType(c.env.DB, c.var.auth.tenantId, id);
      const stored = await loadNightsBetween(c.env.DB, roomType.id, from, to);
      const data = Array.from({ length: days }, (_, i) => {
        const date = addDays(from, i);
        const n = stored.get(date);
        const capacity = n?.capacity ?? roomType.units;
        const booked = n?.booked ?? 0;
        const blocked = n?.blocked ?? 0;
        return {
          date,
          capacity,
          booked,
          blocked,
          available: Math.max(0, capacity - booked - blocked),
          price_minor: effectivePrice(n?.priceMinor ?? null, roomType.basePriceMinor),
          currency: roomType.currency,
        };
      });
      return c.json({ data }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/{id}/calendar",
      tags,
      summary:
        "Set blocked units and nightly prices of up to 1000 nights of a room type (admin), all or nothing",
      description:
        "Only nights whose value changes are written, together with their outbox rows (aspect " +
        "`availability` for blocked changes, `price` for effective-price changes), in one D1 batch; " +
        "every channel of the property is then updated. A night that would hold more than its " +
        "capacity (booked + blocked > capacity) rejects the whole request with 409.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam, ...jsonBody(CalendarUpdateBody) },
      responses: {
        200: ok("What changed", CalendarUpdateResult),
        ...WRITE_ERRORS,
        409: {
          ...WRITE_ERRORS[409],
          description: "A night would hold more than its capacity; nothing was applied",
        },
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const now = Date.now();
      const roomType = await ownRoomType(c.env.DB, c.var.auth.tenantId, id);
      const updates: NightUpdate[] = body.nights.map((n) => ({
        date: n.date,
        blocked: n.blocked,
        priceMinor: n.price_minor,
      }));
      checkNights(roomType, updates, c.env, now);
      const { causeKey, plan } = await applyOr409(c.env.DB, roomType, updates, now);
      if (plan.availabilityChanged.length + plan.priceChanged.length > 0) {
        await relayNow(c.env, causeKey);
      } else {
        // Nothing new: maybe a retry of a request whose batch committed but answered an error.
        await relayLeftovers(c.env, roomType.tenantId, roomType.id);
      }
      return c.json(
        {
          data: {
            room_type_id: roomType.id,
            nights: updates.length,
            availability_changed: plan.availabilityChanged.length,
            price_changed: plan.priceChanged.length,
            cause_key: causeKey,
          },
        },
        200,
      );
    },
  );
