import { z } from "@hono/zod-openapi";
import {
  effectivePrice,
  type CalendarPlan,
  type CalendarRoomType,
  type NightUpdate,
  type StoredNight,
} from "../../domain/calendar-updates";
import { addDays, isIsoDate, type IsoDate } from "../../domain/dates";

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

export const CalendarUpdateBody = z
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

export const CalendarUpdateResult = z
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

export const CalendarQuery = z.object({
  from: IsoDateString.openapi({
    param: { name: "from", in: "query" },
    description: "First night, YYYY-MM-DD",
  }),
  to: IsoDateString.openapi({
    param: { name: "to", in: "query" },
    description: `Last night (included), YYYY-MM-DD; at most ${MAX_CALENDAR_READ_DAYS} days from \`from\``,
  }),
});

export const CalendarNight = z
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

/** Every night of [from, from + days): a night never written is the room type's defaults. */
export function presentNights(
  roomType: CalendarRoomType,
  stored: ReadonlyMap<IsoDate, StoredNight>,
  from: IsoDate,
  days: number,
) {
  return Array.from({ length: days }, (_, i) => {
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
}

/** The request's nights as the plan takes them. */
export const nightUpdates = (body: z.infer<typeof CalendarUpdateBody>): NightUpdate[] =>
  body.nights.map((n) => ({ date: n.date, blocked: n.blocked, priceMinor: n.price_minor }));

export function presentUpdate(
  roomTypeId: string,
  nights: number,
  { causeKey, plan }: { causeKey: string; plan: CalendarPlan },
): z.infer<typeof CalendarUpdateResult> {
  return {
    data: {
      room_type_id: roomTypeId,
      nights,
      availability_changed: plan.availabilityChanged.length,
      price_changed: plan.priceChanged.length,
      cause_key: causeKey,
    },
  };
}
