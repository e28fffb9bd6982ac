import { and, eq, isNull, ne, or, sql } from "drizzle-orm";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { d1Statement, orm } from "./db";
import { isUniqueViolation } from "./errors";
import { listPage, type Page, type PageRequest } from "./page";
import { channelConnections, channelMappings, type Platform } from "./schema/channels.schema";
import type { MappingType } from "../domain/vocabulary";
import { externalScope } from "../platforms/external-ids";

/**
 * channel_mappings: the API's reads and writes, and the mapping statements a connection's own
 * writes batch (the payload tester's reads are in mapping-entities.ts, the verify-mappings job's
 * queue in mapping-queue.ts). Every query names the tenant. `external_scope` is derived here, in
 * one place, so the owner index (one live mapping per platform id across all tenants) always sees
 * the same key.
 */

const m = channelMappings;
const c = channelConnections;

export type MappingRow = typeof channelMappings.$inferSelect;

/** A mapping as the API shows it: its row without the store's own columns, and its property. */
export type MappingView = Omit<MappingRow, "tenantId" | "externalScope" | "nextVerifyAt"> & {
  propertyId: string;
};

/** What a write of a live mapping sets. */
export type MappingWrite = Omit<MappingView, "propertyId" | "deletedAt">;

/** The platform is asked again this long after it could not be asked (unreachable, no adapter). */
export const VERIFY_RETRY_MS = 60_000;

/** A pending mapping is due for the job; a confirmed one is not. */
function nextVerifyAt(w: Pick<MappingWrite, "status" | "updatedAt">): number | null {
  return w.status === "pending" ? w.updatedAt + VERIFY_RETRY_MS : null;
}

// ---------------------------------------------------------------------------------------------
// The API's reads

const VIEW = {
  id: m.id,
  connectionId: m.connectionId,
  propertyId: c.propertyId,
  platform: m.platform,
  mappingType: m.mappingType,
  internalId: m.internalId,
  externalId: m.externalId,
  status: m.status,
  verifiedAt: m.verifiedAt,
  verificationError: m.verificationError,
  createdAt: m.createdAt,
  updatedAt: m.updatedAt,
  deletedAt: m.deletedAt,
};

function selectViews(db: D1Database) {
  return orm(db)
    .select(VIEW)
    .from(m)
    .innerJoin(c, and(eq(c.id, m.connectionId), eq(c.tenantId, m.tenantId)));
}

/** The tenant's mapping, deleted ones too (with deletedAt); null for anyone else's. */
export async function ownMapping(
  db: D1Database,
  tenantId: string,
  id: string,
): Promise<MappingView | null> {
  const row = await selectViews(db)
    .where(and(eq(m.id, id), eq(m.tenantId, tenantId)))
    .get();
  return row ?? null;
}

export interface MappingFilter {
  connectionId?: string | undefined;
  propertyId?: string | undefined;
  platform?: Platform | undefined;
  mappingType?: MappingType | undefined;
  includeDeleted: boolean;
}

/** A page of the tenant's mappings, newest first. */
export function listMappings(
  db: D1Database,
  tenantId: string,
  f: MappingFilter,
  req: PageRequest,
): Promise<Page<MappingView>> {
  const filters = [
    eq(m.tenantId, tenantId),
    f.connectionId === undefined ? undefined : eq(m.connectionId, f.connectionId),
    f.propertyId === undefined ? undefined : eq(c.propertyId, f.propertyId),
    f.platform === undefined ? undefined : eq(m.platform, f.platform),
    f.mappingType === undefined ? undefined : eq(m.mappingType, f.mappingType),
    f.includeDeleted ? undefined : isNull(m.deletedAt),
  ];
  const key = {
    ts: m.createdAt,
    id: m.id,
    of: (r: MappingView) => ({ ts: r.createdAt, id: r.id }),
  };
  return listPage(req, key, (w) =>
    selectViews(db)
      .where(and(...filters, w.after))
      .orderBy(...w.orderBy)
      .limit(w.limit),
  );
}

/** Live mappings of the connection and type holding either id (the partial unique indexes). */
export function liveMappingsHolding(
  db: D1Database,
  tenantId: string,
  claim: { connectionId: string; mappingType: MappingType; internalId: string; externalId: string },
  exceptId: string | null,
): Promise<Array<Pick<MappingRow, "id" | "internalId" | "externalId">>> {
  return orm(db)
    .select({ id: m.id, internalId: m.internalId, externalId: m.externalId })
    .from(m)
    .where(
      and(
        eq(m.tenantId, tenantId),
        eq(m.connectionId, claim.connectionId),
        eq(m.mappingType, claim.mappingType),
        isNull(m.deletedAt),
        or(eq(m.internalId, claim.internalId), eq(m.externalId, claim.externalId)),
        ne(m.id, exceptId ?? ""),
      ),
    );
}

// ---------------------------------------------------------------------------------------------
// The API's writes

/** Insert; a unique index (this connection's, or the owner index) refuses a second live owner. */
export async function insertMapping(
  db: D1Database,
  tenantId: string,
  w: MappingWrite,
): Promise<void> {
  await orm(db)
    .insert(m)
    .values({
      id: w.id,
      tenantId,
      connectionId: w.connectionId,
      platform: w.platform,
      mappingType: w.mappingType,
      internalId: w.internalId,
      externalId: w.externalId,
      externalScope: externalScope(w.platform, w.mappingType, w.connectionId),
      status: w.status,
      verifiedAt: w.verifiedAt,
      verificationError: w.verificationError,
      nextVerifyAt: nextVerifyAt(w),
      createdAt: w.createdAt,
      updatedAt: w.updatedAt,
    })
    .run();
}

/** Change a live mapping's ids and verdict; 0 when it was deleted meanwhile. */
export async function updateMapping(
  db: D1Database,
  tenantId: string,
  w: MappingWrite,
): Promise<number> {
  const result = await orm(db)
    .update(m)
    .set({
      internalId: w.internalId,
      externalId: w.externalId,
      status: w.status,
      verifiedAt: w.verifiedAt,
      verificationError: w.verificationError,
      nextVerifyAt: nextVerifyAt(w),
      updatedAt: w.updatedAt,
    })
    .where(and(eq(m.id, w.id), eq(m.tenantId, tenantId), isNull(m.deletedAt)))
    .run();
  return result.meta.changes;
}

/**
 * The owner index refused the write: the id is live on another connection, of any tenant. Only
 * the owner index covers `external_scope`; the driver's message names it (Drizzle's wrapper
 * quotes the whole statement, which names every column, so it is not read).
 */
export function isTakenByOwner(err: unknown): boolean {
  if (!isUniqueViolation(err)) return false;
  const driver = err instanceof DrizzleQueryError ? err.cause : err;
  return [driver, (driver as { cause?: unknown } | null)?.cause].some((e) =>
    String(e).includes("external_scope"),
  );
}

/**
 * Soft-delete; deleting again changes nothing (the first deletion time stays). 0 when the tenant
 * has no such mapping.
 */
export async function softDeleteMapping(
  db: D1Database,
  tenantId: string,
  id: string,
  now: number,
): Promise<number> {
  const result = await orm(db)
    .update(m)
    .set({
      updatedAt: sql`CASE WHEN ${m.deletedAt} IS NULL THEN ${now} ELSE ${m.updatedAt} END`,
      deletedAt: sql`COALESCE(${m.deletedAt}, ${now})`,
    })
    .where(and(eq(m.id, id), eq(m.tenantId, tenantId)))
    .run();
  return result.meta.changes;
}

// ---------------------------------------------------------------------------------------------
// A connection's writes batch these

/** Soft-delete every live mapping of a connection (the connection itself is being deleted). */
export function deleteConnectionMappingsStatement(
  db: D1Database,
  tenantId: string,
  connectionId: string,
  now: number,
): D1PreparedStatement {
  const query = orm(db)
    .update(m)
    .set({ deletedAt: now, updatedAt: now, nextVerifyAt: null })
    .where(and(eq(m.tenantId, tenantId), eq(m.connectionId, connectionId), isNull(m.deletedAt)));
  return d1Statement(db, query);
}

/**
 * The connection's platform property or credentials changed: what its mappings were confirmed
 * for holds no more, so each goes back to pending (pushed to by nobody) until the platform
 * confirms it again (the verify-mappings job asks within a minute).
 */
export function reverifyConnectionMappingsStatement(
  db: D1Database,
  tenantId: string,
  connectionId: string,
  reason: string,
  now: number,
): D1PreparedStatement {
  const query = orm(db)
    .update(m)
    .set({
      status: "pending",
      verifiedAt: null,
      nextVerifyAt: now,
      verificationError: reason,
      updatedAt: now,
    })
    .where(and(eq(m.tenantId, tenantId), eq(m.connectionId, connectionId), isNull(m.deletedAt)));
  return d1Statement(db, query);
}
