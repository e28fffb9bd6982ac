import { z } from "@hono/zod-openapi";
import { IdRef } from "../../http/openapi";
import type { PropertyRow, RatePlanRow, RoomTypeRow } from "../../store/properties";

function isIanaZone(zone: string): boolean {
  // Intl also takes offsets like "+01:00"; a property lives in a named zone with DST rules.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** "europe/berlin" → "Europe/Berlin": stored the way Intl names it. */
export const canonicalZone = (zone: string) =>
  new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;

const TimeZone = z
  .string()
  .max(64)
  .refine(isIanaZone, "must be an IANA time zone like Europe/Berlin")
  .openapi({ example: "Europe/Berlin", description: "IANA time zone of the property" });
const Name = (example: string) => z.string().trim().min(1).max(200).openapi({ example });

export const PropertySchema = z
  .object({
    id: z.string().openapi({ example: "prop_3b1f…" }),
    name: z.string(),
    time_zone: z.string(),
    created_at: z.number().int(),
  })
  .openapi("Property");

export const CreatePropertyBody = z
  .object({ name: Name("Chalet Edelweiss"), time_zone: TimeZone })
  .openapi("CreateProperty");
export const UpdatePropertyBody = z
  .object({ name: Name("Chalet Edelweiss").optional(), time_zone: TimeZone.optional() })
  .refine((b) => b.name !== undefined || b.time_zone !== undefined, {
    message: "give at least one of name, time_zone",
  })
  .openapi("UpdateProperty");

export const RoomTypeSchema = z
  .object({
    id: z.string().openapi({ example: "rt_8c02…" }),
    property_id: z.string(),
    name: z.string(),
    units: z.number().int(),
    base_price_minor: z.number().int().nullable(),
    currency: z.string().nullable(),
    created_at: z.number().int(),
  })
  .openapi("RoomType");

export const CreateRoomTypeBody = z
  .object({
    name: Name("Double room"),
    units: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .openapi({ example: 1, description: "Sellable units: 1 for a holiday home" }),
    base_price_minor: z
      .number()
      .int()
      .min(0)
      .max(100_000_000)
      .optional()
      .openapi({ example: 12000, description: "Default nightly price in minor units (cents)" }),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code like EUR")
      .optional()
      .openapi({ example: "EUR" }),
  })
  .refine((b) => b.base_price_minor === undefined || b.currency !== undefined, {
    message: "is required with base_price_minor",
    path: ["currency"],
  })
  .openapi("CreateRoomType");

export const RatePlanSchema = z
  .object({
    id: z.string().openapi({ example: "rp_51aa…" }),
    property_id: z.string(),
    room_type_id: z.string(),
    name: z.string(),
    created_at: z.number().int(),
  })
  .openapi("RatePlan");

export const CreateRatePlanBody = z
  .object({ room_type_id: IdRef("rt_8c02…"), name: Name("Standard, breakfast included") })
  .openapi("CreateRatePlan");

/** Rows as the API writes them: snake_case, no tenant. */
export const presentProperty = (r: PropertyRow): z.infer<typeof PropertySchema> => ({
  id: r.id,
  name: r.name,
  time_zone: r.timeZone,
  created_at: r.createdAt,
});

export const presentRoomType = (r: RoomTypeRow): z.infer<typeof RoomTypeSchema> => ({
  id: r.id,
  property_id: r.propertyId,
  name: r.name,
  units: r.units,
  base_price_minor: r.basePriceMinor,
  currency: r.currency,
  created_at: r.createdAt,
});

export const presentRatePlan = (r: RatePlanRow): z.infer<typeof RatePlanSchema> => ({
  id: r.id,
  property_id: r.propertyId,
  room_type_id: r.roomTypeId,
  name: r.name,
  created_at: r.createdAt,
});

/** A page of rows, presented. */
export const presentPage = <R, T>(
  p: { data: R[]; next_cursor: string | null },
  f: (r: R) => T,
) => ({
  data: p.data.map(f),
  next_cursor: p.next_cursor,
});
