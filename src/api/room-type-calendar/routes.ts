import { createRoute, z } from "@hono/zod-openapi";
import { engineConfig } from "../../config";
import {
  CalendarConflictError,
  calendarWindow,
  type CalendarRoomType,
  type NightUpdate,
} from "../../domain/calendar-updates";
import { daysBetween } from "../../domain/dates";
import { requireAdmin, requireTenantAuth } from "../../http/auth";
import { ApiError } from "../../http/errors";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  IdParam,
  jsonBody,
  ok,
  WRITE_ERRORS,
} from "../../http/openapi";
import { applyCalendarUpdate, relayLeftovers, relayNow } from "../../services/calendar-updates";
import { nightsBetween, ownCalendarRoomType } from "../../store/calendar";
import {
  CalendarNight,
  CalendarQuery,
  CalendarUpdateBody,
  CalendarUpdateResult,
  MAX_CALENDAR_READ_DAYS,
  nightUpdates,
  presentNights,
  presentUpdate,
} from "./schemas";

const notFound = (id: string) => new ApiError(404, "not_found", `room type ${id} not found`);

async function ownRoomType(db: D1Database, tenantId: string, id: string) {
  const roomType = await ownCalendarRoomType(db, tenantId, id);
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
      const stored = await nightsBetween(c.env.DB, roomType.id, from, to);
      return c.json({ data: presentNights(roomType, stored, from, days) }, 200);
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
      const updates = nightUpdates(body);
      checkNights(roomType, updates, c.env, now);
      const result = await applyOr409(c.env.DB, roomType, updates, now);
      const { plan } = result;
      if (plan.availabilityChanged.length + plan.priceChanged.length > 0) {
        await relayNow(c.env, result.causeKey);
      } else {
        // Nothing new: maybe a retry of a request whose batch committed but answered an error.
        await relayLeftovers(c.env, roomType.tenantId, roomType.id);
      }
      return c.json(presentUpdate(roomType.id, updates.length, result), 200);
    },
  );
