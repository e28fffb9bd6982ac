import { and, desc, eq, isNotNull, isNull, ne, sql, type SQL } from "drizzle-orm";
import { orm } from "./db";
import {
  channelConnections as c,
  channelMappings as m,
  type MappingStatus,
  type Platform,
} from "./schema/channels.schema";
import { properties, ratePlans, roomTypes } from "./schema/tenancy.schema";
import type { MappingType } from "../domain/vocabulary";

/**
 * What a mapping points at: the internal entity its type names (the connection's property, or a
 * room type / rate plan of it), and the reads the payload tester resolves a sample payload with.
 * Every query names the tenant.
 */

/** A mapping type's internal entity table, and its column naming the property it belongs to. */
function entityOf(type: MappingType) {
  switch (type) {
    case "property":
      return { table: properties, ofProperty: properties.id };
    case "room_type":
      return { table: roomTypes, ofProperty: roomTypes.propertyId };
    case "rate_plan":
      return { table: ratePlans, ofProperty: ratePlans.propertyId };
  }
}

/** Whether the internal id is the property itself, or a room type / rate plan of it. */
export async function isEntityOfProperty(
  db: D1Database,
  tenantId: string,
  type: MappingType,
  internalId: string,
  propertyId: string,
): Promise<boolean> {
  const e = entityOf(type);
  const row = await orm(db)
    .select({ id: e.table.id })
    .from(e.table)
    .where(
      and(eq(e.table.id, internalId), eq(e.table.tenantId, tenantId), eq(e.ofProperty, propertyId)),
    )
    .get();
  return row !== undefined;
}
// ---------------------------------------------------------------------------------------------
// The payload tester's reads

export interface ExternalIdMapping {
  id: string;
  internalId: string;
  deletedAt: number | null;
  status: MappingStatus;
  /** The internal entity's name; null when it is not the connection's property's. */
  name: string | null;
}

/** The connection's mappings of a platform id: the live one first, then the latest deleted. */
export function mappingsOfExternalId(
  db: D1Database,
  connection: { id: string; tenantId: string; propertyId: string },
  type: MappingType,
  externalId: string,
): Promise<ExternalIdMapping[]> {
  const e = entityOf(type);
  const joined = and(
    eq(e.table.id, m.internalId),
    eq(e.table.tenantId, m.tenantId),
    eq(e.ofProperty, connection.propertyId),
  );
  return orm(db)
    .select({
      id: m.id,
      internalId: m.internalId,
      deletedAt: m.deletedAt,
      status: m.status,
      name: sql<string | null>`${e.table.name}`,
    })
    .from(m)
    .leftJoin(e.table, joined as SQL)
    .where(
      and(
        eq(m.tenantId, connection.tenantId),
        eq(m.connectionId, connection.id),
        eq(m.mappingType, type),
        eq(m.externalId, externalId),
      ),
    )
    .orderBy(isNotNull(m.deletedAt), desc(m.deletedAt))
    .limit(5);
}

/** The tenant's property (id and name); null for anyone else's. */
export async function propertyNamed(
  db: D1Database,
  tenantId: string,
  propertyId: string,
): Promise<{ id: string; name: string } | null> {
  const row = await orm(db)
    .select({ id: properties.id, name: properties.name })
    .from(properties)
    .where(and(eq(properties.id, propertyId), eq(properties.tenantId, tenantId)))
    .get();
  return row ?? null;
}

/** Another live connection of the tenant mapping this room id live: where a booking would go. */
export async function otherRoomOwner(
  db: D1Database,
  connection: { id: string; tenantId: string; platform: Platform },
  externalRoomId: string,
): Promise<{ connectionId: string; propertyId: string } | null> {
  const row = await orm(db)
    .select({ connectionId: m.connectionId, propertyId: c.propertyId })
    .from(m)
    .innerJoin(c, and(eq(c.id, m.connectionId), eq(c.tenantId, m.tenantId)))
    .where(
      and(
        eq(m.tenantId, connection.tenantId),
        eq(m.platform, connection.platform),
        eq(m.mappingType, "room_type"),
        eq(m.externalId, externalRoomId),
        isNull(m.deletedAt),
        isNull(c.deletedAt),
        ne(m.connectionId, connection.id),
      ),
    )
    .limit(1)
    .get();
  return row ?? null;
}

/**
 * Another live connection of the tenant on this platform property: the one a payload naming it
 * is routed to.
 */
export async function otherConnectionOfProperty(
  db: D1Database,
  connection: { id: string; tenantId: string; platform: Platform },
  externalPropertyId: string,
): Promise<{ id: string; propertyId: string } | null> {
  const row = await orm(db)
    .select({ id: c.id, propertyId: c.propertyId })
    .from(c)
    .where(
      and(
        eq(c.tenantId, connection.tenantId),
        eq(c.platform, connection.platform),
        eq(c.externalPropertyId, externalPropertyId),
        isNull(c.deletedAt),
        ne(c.id, connection.id),
      ),
    )
    .limit(1)
    .get();
  return row ?? null;
}
