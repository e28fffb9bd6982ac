import { and, eq } from "drizzle-orm";
import { orm } from "./db";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { listPage, type Page, type PageKey, type PageRequest } from "./page";
import { properties, ratePlans, roomTypes } from "./schema/tenancy.schema";

/**
 * A tenant's properties, their room types and rate plans. Every query names the tenant, so a row
 * of another tenant reads as missing (the caller's 404), never as someone else's.
 */

export type PropertyRow = Omit<typeof properties.$inferSelect, "tenantId">;
export type RoomTypeRow = Omit<typeof roomTypes.$inferSelect, "tenantId">;
export type RatePlanRow = Omit<typeof ratePlans.$inferSelect, "tenantId">;

const PROPERTY = {
  id: properties.id,
  name: properties.name,
  timeZone: properties.timeZone,
  createdAt: properties.createdAt,
};
const ROOM_TYPE = {
  id: roomTypes.id,
  propertyId: roomTypes.propertyId,
  name: roomTypes.name,
  units: roomTypes.units,
  basePriceMinor: roomTypes.basePriceMinor,
  currency: roomTypes.currency,
  createdAt: roomTypes.createdAt,
};
const RATE_PLAN = {
  id: ratePlans.id,
  propertyId: ratePlans.propertyId,
  roomTypeId: ratePlans.roomTypeId,
  name: ratePlans.name,
  createdAt: ratePlans.createdAt,
};

/** Newest first, by (created_at, id). */
const byCreated = <T extends { id: string; createdAt: number }>(table: {
  id: SQLiteColumn;
  createdAt: SQLiteColumn;
}): PageKey<T> => ({
  ts: table.createdAt,
  id: table.id,
  of: (r) => ({ ts: r.createdAt, id: r.id }),
});

/** The property, only if it is the tenant's. */
export async function ownProperty(
  db: D1Database,
  tenantId: string,
  id: string,
): Promise<PropertyRow | undefined> {
  return orm(db)
    .select(PROPERTY)
    .from(properties)
    .where(and(eq(properties.id, id), eq(properties.tenantId, tenantId)))
    .get();
}

export async function listProperties(
  db: D1Database,
  tenantId: string,
  req: PageRequest,
): Promise<Page<PropertyRow>> {
  return listPage(req, byCreated<PropertyRow>(properties), (w) =>
    orm(db)
      .select(PROPERTY)
      .from(properties)
      .where(and(eq(properties.tenantId, tenantId), w.after))
      .orderBy(...w.orderBy)
      .limit(w.limit),
  );
}

export async function insertProperty(
  db: D1Database,
  tenantId: string,
  row: PropertyRow,
): Promise<void> {
  await orm(db)
    .insert(properties)
    .values({ ...row, tenantId });
}

/** Change what is given; undefined when the property is not the tenant's. */
export async function updateProperty(
  db: D1Database,
  tenantId: string,
  id: string,
  change: { name?: string | undefined; timeZone?: string | undefined },
): Promise<PropertyRow | undefined> {
  return orm(db)
    .update(properties)
    .set({ name: change.name, timeZone: change.timeZone })
    .where(and(eq(properties.id, id), eq(properties.tenantId, tenantId)))
    .returning(PROPERTY)
    .get();
}

/** The room type's id, only if it is the tenant's and belongs to this property. */
export async function ownRoomTypeOf(
  db: D1Database,
  tenantId: string,
  propertyId: string,
  id: string,
): Promise<{ id: string } | undefined> {
  return orm(db)
    .select({ id: roomTypes.id })
    .from(roomTypes)
    .where(
      and(
        eq(roomTypes.id, id),
        eq(roomTypes.propertyId, propertyId),
        eq(roomTypes.tenantId, tenantId),
      ),
    )
    .get();
}

export async function listRoomTypes(
  db: D1Database,
  tenantId: string,
  propertyId: string,
  req: PageRequest,
): Promise<Page<RoomTypeRow>> {
  return listPage(req, byCreated<RoomTypeRow>(roomTypes), (w) =>
    orm(db)
      .select(ROOM_TYPE)
      .from(roomTypes)
      .where(and(eq(roomTypes.tenantId, tenantId), eq(roomTypes.propertyId, propertyId), w.after))
      .orderBy(...w.orderBy)
      .limit(w.limit),
  );
}

/** A unique index refuses a second room type of the same name in the property. */
export async function insertRoomType(
  db: D1Database,
  tenantId: string,
  row: RoomTypeRow,
): Promise<void> {
  await orm(db)
    .insert(roomTypes)
    .values({ ...row, tenantId });
}

export async function listRatePlans(
  db: D1Database,
  tenantId: string,
  propertyId: string,
  req: PageRequest,
): Promise<Page<RatePlanRow>> {
  return listPage(req, byCreated<RatePlanRow>(ratePlans), (w) =>
    orm(db)
      .select(RATE_PLAN)
      .from(ratePlans)
      .where(and(eq(ratePlans.tenantId, tenantId), eq(ratePlans.propertyId, propertyId), w.after))
      .orderBy(...w.orderBy)
      .limit(w.limit),
  );
}

/** A unique index refuses a second rate plan of the same name in the room type. */
export async function insertRatePlan(
  db: D1Database,
  tenantId: string,
  row: RatePlanRow,
): Promise<void> {
  await orm(db)
    .insert(ratePlans)
    .values({ ...row, tenantId });
}
