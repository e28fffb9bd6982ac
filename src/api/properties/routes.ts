import { createRoute } from "@hono/zod-openapi";
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
import { pageRequest, pageSchema, PageQuery } from "../../http/pagination";
import { newId } from "../../lib/ids";
import { isUniqueViolation } from "../../store/errors";
import {
  insertProperty,
  insertRatePlan,
  insertRoomType,
  listProperties,
  listRatePlans,
  listRoomTypes,
  ownProperty,
  ownRoomTypeOf,
  updateProperty,
  type PropertyRow,
  type RatePlanRow,
  type RoomTypeRow,
} from "../../store/properties";
import {
  canonicalZone,
  CreatePropertyBody,
  CreateRatePlanBody,
  CreateRoomTypeBody,
  presentPage,
  presentProperty,
  presentRatePlan,
  presentRoomType,
  PropertySchema,
  RatePlanSchema,
  RoomTypeSchema,
  UpdatePropertyBody,
} from "./schemas";

const notFound = (id: string) => new ApiError(404, "not_found", `property ${id} not found`);

/** The property, only if it is the caller's tenant's; otherwise the same 404 as unknown. */
async function propertyOr404(db: D1Database, tenantId: string, id: string): Promise<PropertyRow> {
  const row = await ownProperty(db, tenantId, id);
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
      const req = pageRequest(c.req.valid("query"));
      const rows = await listProperties(c.env.DB, c.var.auth.tenantId, req);
      return c.json(presentPage(rows, presentProperty), 200);
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
        timeZone: canonicalZone(body.time_zone),
        createdAt: Date.now(),
      };
      await insertProperty(c.env.DB, c.var.auth.tenantId, row);
      return c.json(presentProperty(row), 201);
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
      return c.json(presentProperty(await propertyOr404(c.env.DB, c.var.auth.tenantId, id)), 200);
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
      const row = await updateProperty(c.env.DB, c.var.auth.tenantId, id, {
        name: body.name,
        timeZone: body.time_zone === undefined ? undefined : canonicalZone(body.time_zone),
      });
      if (!row) throw notFound(id);
      return c.json(presentProperty(row), 200);
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
      const req = pageRequest(c.req.valid("query"));
      await propertyOr404(c.env.DB, c.var.auth.tenantId, id);
      const rows = await listRoomTypes(c.env.DB, c.var.auth.tenantId, id, req);
      return c.json(presentPage(rows, presentRoomType), 200);
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
      await propertyOr404(c.env.DB, c.var.auth.tenantId, id);
      const row: RoomTypeRow = {
        id: newId("rt"),
        propertyId: id,
        name: body.name,
        units: body.units,
        basePriceMinor: body.base_price_minor ?? null,
        currency: body.currency ?? null,
        createdAt: Date.now(),
      };
      try {
        await insertRoomType(c.env.DB, c.var.auth.tenantId, row);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        throw new ApiError(
          409,
          "conflict",
          `property ${id} already has a room type named "${row.name}"`,
          [{ path: "name", message: "already used by another room type of this property" }],
        );
      }
      return c.json(presentRoomType(row), 201);
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
      const req = pageRequest(c.req.valid("query"));
      await propertyOr404(c.env.DB, c.var.auth.tenantId, id);
      const rows = await listRatePlans(c.env.DB, c.var.auth.tenantId, id, req);
      return c.json(presentPage(rows, presentRatePlan), 200);
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
      await propertyOr404(c.env.DB, tenantId, id);
      const roomType = await ownRoomTypeOf(c.env.DB, tenantId, id, body.room_type_id);
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
        propertyId: id,
        roomTypeId: body.room_type_id,
        name: body.name,
        createdAt: Date.now(),
      };
      try {
        await insertRatePlan(c.env.DB, tenantId, row);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        throw new ApiError(
          409,
          "conflict",
          `room type ${row.roomTypeId} already has a rate plan named "${row.name}"`,
          [{ path: "name", message: "already used by another rate plan of this room type" }],
        );
      }
      return c.json(presentRatePlan(row), 201);
    },
  );
