import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, requireTenantAuth } from "../http/auth";
import { ApiError } from "../http/errors";
import { isUniqueViolation } from "../store/errors";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  IdParam,
  IdRef,
  jsonBody,
  ok,
  WRITE_ERRORS,
} from "../http/openapi";
import { afterCursor, page, pageSchema, PageQuery } from "../http/pagination";
import { newId } from "../lib/ids";

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
const canonicalZone = (zone: string) =>
  new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;

const TimeZone = z
  .string()
  .max(64)
  .refine(isIanaZone, "must be an IANA time zone like Europe/Berlin")
  .openapi({ example: "Europe/Berlin", description: "IANA time zone of the property" });
const Name = (example: string) => z.string().trim().min(1).max(200).openapi({ example });

const PropertySchema = z
  .object({
    id: z.string().openapi({ example: "prop_3b1f…" }),
    name: z.string(),
    time_zone: z.string(),
    created_at: z.number().int(),
  })
  .openapi("Property");

const CreatePropertyBody = z
  .object({ name: Name("Chalet Edelweiss"), time_zone: TimeZone })
  .openapi("CreateProperty");
const UpdatePropertyBody = z
  .object({ name: Name("Chalet Edelweiss").optional(), time_zone: TimeZone.optional() })
  .refine((b) => b.name !== undefined || b.time_zone !== undefined, {
    message: "give at least one of name, time_zone",
  })
  .openapi("UpdateProperty");

const RoomTypeSchema = z
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

const CreateRoomTypeBody = z
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

const RatePlanSchema = z
  .object({
    id: z.string().openapi({ example: "rp_51aa…" }),
    property_id: z.string(),
    room_type_id: z.string(),
    name: z.string(),
    created_at: z.number().int(),
  })
  .openapi("RatePlan");

const CreateRatePlanBody = z
  .object({ room_type_id: IdRef("rt_8c02…"), name: Name("Standard, breakfast included") })
  .openapi("CreateRatePlan");

type PropertyRow = z.infer<typeof PropertySchema>;
type RoomTypeRow = z.infer<typeof RoomTypeSchema>;
type RatePlanRow = z.infer<typeof RatePlanSchema>;

const PROPERTY_COLUMNS = `id, name, time_zone, created_at`;
const ROOM_TYPE_COLUMNS = `id, property_id, name, units, base_price_minor, currency, created_at`;
const RATE_PLAN_COLUMNS = `id, property_id, room_type_id, name, created_at`;

const notFound = (id: string) => new ApiError(404, "not_found", `property ${id} not found`);

/** The property, only if it is the caller's tenant's; otherwise the same 404 as unknown. */
async function ownProperty(db: D1Database, tenantId: string, id: string): Promise<PropertyRow> {
  const row = await db
    .prepare(`SELECT ${PROPERTY_COLUMNS} FROM properties WHERE id = ? AND tenant_id = ?`)
    .bind(id, tenantId)
    .first<PropertyRow>();
  if (!row) throw notFound(id);
  return row;
}

const tags = ["Properties"];

/** /api/v1/properties: a tenant's properties, their room types and rate plans. */
export const properties = createRouter();
properties.use("*", requireTenantAuth);
properties
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List the tenant's properties, newest first",
      security: BEARER,
      request: { query: PageQuery },
      responses: { 200: ok("A page of properties", pageSchema(PropertySchema)), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const k = afterCursor(cursor);
      const rows = await c.env.DB.prepare(
        `SELECT ${PROPERTY_COLUMNS} FROM properties WHERE tenant_id = ? ${k.sql}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
        .bind(c.var.auth.tenantId, ...k.binds, limit + 1)
        .all<PropertyRow>();
      return c.json(
        page(rows.results, limit, (r) => r.created_at),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Create a property (admin)",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: jsonBody(CreatePropertyBody),
      responses: { 201: ok("The new property", PropertySchema), ...WRITE_ERRORS },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const row: PropertyRow = {
        id: newId("prop"),
        name: body.name,
        time_zone: canonicalZone(body.time_zone),
        created_at: Date.now(),
      };
      await c.env.DB.prepare(
        `INSERT INTO properties (id, tenant_id, name, time_zone, created_at) VALUES (?, ?, ?, ?, ?)`,
      )
        .bind(row.id, c.var.auth.tenantId, row.name, row.time_zone, row.created_at)
        .run();
      return c.json(row, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a property",
      security: BEARER,
      request: { params: IdParam },
      responses: { 200: ok("The property", PropertySchema), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await ownProperty(c.env.DB, c.var.auth.tenantId, id), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Rename a property or change its time zone (admin)",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam, ...jsonBody(UpdatePropertyBody) },
      responses: { 200: ok("The updated property", PropertySchema), ...WRITE_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const row = await c.env.DB.prepare(
        `UPDATE properties SET name = COALESCE(?, name), time_zone = COALESCE(?, time_zone)
         WHERE id = ? AND tenant_id = ? RETURNING ${PROPERTY_COLUMNS}`,
      )
        .bind(
          body.name ?? null,
          body.time_zone === undefined ? null : canonicalZone(body.time_zone),
          id,
          c.var.auth.tenantId,
        )
        .first<PropertyRow>();
      if (!row) throw notFound(id);
      return c.json(row, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/room-types",
      tags,
      summary: "List a property's room types, newest first",
      security: BEARER,
      request: { params: IdParam, query: PageQuery },
      responses: { 200: ok("A page of room types", pageSchema(RoomTypeSchema)), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { limit, cursor } = c.req.valid("query");
      const k = afterCursor(cursor);
      await ownProperty(c.env.DB, c.var.auth.tenantId, id);
      const rows = await c.env.DB.prepare(
        `SELECT ${ROOM_TYPE_COLUMNS} FROM room_types WHERE tenant_id = ? AND property_id = ? ${k.sql}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
        .bind(c.var.auth.tenantId, id, ...k.binds, limit + 1)
        .all<RoomTypeRow>();
      return c.json(
        page(rows.results, limit, (r) => r.created_at),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/room-types",
      tags,
      summary: "Create a room type of a property (admin); names are unique per property",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam, ...jsonBody(CreateRoomTypeBody) },
      responses: { 201: ok("The new room type", RoomTypeSchema), ...WRITE_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      await ownProperty(c.env.DB, c.var.auth.tenantId, id);
      const row: RoomTypeRow = {
        id: newId("rt"),
        property_id: id,
        name: body.name,
        units: body.units,
        base_price_minor: body.base_price_minor ?? null,
        currency: body.currency ?? null,
        created_at: Date.now(),
      };
      try {
        await c.env.DB.prepare(
          `INSERT INTO room_types (id, tenant_id, property_id, name, units, base_price_minor, currency, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
          .bind(
            row.id,
            c.var.auth.tenantId,
            id,
            row.name,
            row.units,
            row.base_price_minor,
            row.currency,
            row.created_at,
          )
          .run();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        throw new ApiError(
          409,
          "conflict",
          `property ${id} already has a room type named "${row.name}"`,
          [{ path: "name", message: "already used by another room type of this property" }],
        );
      }
      return c.json(row, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/rate-plans",
      tags,
      summary: "List a property's rate plans, newest first",
      security: BEARER,
      request: { params: IdParam, query: PageQuery },
      responses: { 200: ok("A page of rate plans", pageSchema(RatePlanSchema)), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { limit, cursor } = c.req.valid("query");
      const k = afterCursor(cursor);
      await ownProperty(c.env.DB, c.var.auth.tenantId, id);
      const rows = await c.env.DB.prepare(
        `SELECT ${RATE_PLAN_COLUMNS} FROM rate_plans WHERE tenant_id = ? AND property_id = ? ${k.sql}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
        .bind(c.var.auth.tenantId, id, ...k.binds, limit + 1)
        .all<RatePlanRow>();
      return c.json(
        page(rows.results, limit, (r) => r.created_at),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/rate-plans",
      tags,
      summary:
        "Create a rate plan of one of the property's room types (admin); names are unique per room type",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam, ...jsonBody(CreateRatePlanBody) },
      responses: { 201: ok("The new rate plan", RatePlanSchema), ...WRITE_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const tenantId = c.var.auth.tenantId;
      await ownProperty(c.env.DB, tenantId, id);
      const roomType = await c.env.DB.prepare(
        `SELECT id FROM room_types WHERE id = ? AND property_id = ? AND tenant_id = ?`,
      )
        .bind(body.room_type_id, id, tenantId)
        .first<{ id: string }>();
      if (!roomType) {
        throw new ApiError(
          404,
          "not_found",
          `room_type_id ${body.room_type_id} not found in property ${id}`,
          [{ path: "room_type_id", message: "no such room type in this property" }],
        );
      }
      const row: RatePlanRow = {
        id: newId("rp"),
        property_id: id,
        room_type_id: body.room_type_id,
        name: body.name,
        created_at: Date.now(),
      };
      try {
        await c.env.DB.prepare(
          `INSERT INTO rate_plans (id, tenant_id, property_id, room_type_id, name, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
          .bind(row.id, tenantId, id, row.room_type_id, row.name, row.created_at)
          .run();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        throw new ApiError(
          409,
          "conflict",
          `room type ${row.room_type_id} already has a rate plan named "${row.name}"`,
          [{ path: "name", message: "already used by another rate plan of this room type" }],
        );
      }
      return c.json(row, 201);
    },
  );
