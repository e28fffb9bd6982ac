import { and, eq, inArray, isNotNull, isNull, lte } from "drizzle-orm";
import { d1Statement, orm } from "./db";
import { VERIFY_RETRY_MS, type MappingRow } from "./mappings";
import { channelMappings as m } from "./schema/channels.schema";

/**
 * The verify-mappings job's queue: mappings whose next_verify_at is due, leased by moving it, and
 * the platform's verdict written back. The queue is read across tenants (the job serves them
 * all); every write names the row's tenant.
 */

export type DueMapping = Pick<
  MappingRow,
  | "id"
  | "tenantId"
  | "connectionId"
  | "platform"
  | "mappingType"
  | "internalId"
  | "externalId"
  | "status"
>;

/**
 * Take up to `limit` mappings due for a check (pending ones, and ones made before checks existed),
 * leasing each for `leaseMs` by moving its next_verify_at: an overlapping run takes others (the
 * outer `next_verify_at <= now` is the compare-and-swap that loses to it).
 */
export function takeDueMappings(
  db: D1Database,
  now: number,
  limit: number,
  leaseMs: number,
): Promise<DueMapping[]> {
  const due = orm(db)
    .select({ id: m.id })
    .from(m)
    .where(and(isNotNull(m.nextVerifyAt), lte(m.nextVerifyAt, now), isNull(m.deletedAt)))
    .orderBy(m.nextVerifyAt)
    .limit(limit);
  return orm(db)
    .update(m)
    .set({ nextVerifyAt: now + leaseMs })
    .where(and(inArray(m.id, due), lte(m.nextVerifyAt, now)))
    .returning({
      id: m.id,
      tenantId: m.tenantId,
      connectionId: m.connectionId,
      platform: m.platform,
      mappingType: m.mappingType,
      internalId: m.internalId,
      externalId: m.externalId,
      status: m.status,
    });
}

/** The job's row, still live and still naming the id it asked about. */
function stillAsked(d: DueMapping) {
  return and(
    eq(m.id, d.id),
    eq(m.tenantId, d.tenantId),
    eq(m.externalId, d.externalId),
    isNull(m.deletedAt),
  );
}

/** The platform confirmed it: pushed to and routed from now on. */
export async function confirmMapping(db: D1Database, d: DueMapping, now: number): Promise<number> {
  const result = await orm(db)
    .update(m)
    .set({
      status: "confirmed",
      verifiedAt: now,
      verificationError: null,
      nextVerifyAt: null,
      updatedAt: now,
    })
    .where(stillAsked(d))
    .run();
  return result.meta.changes;
}

/** The platform said no: the mapping is refused and soft-deleted, so it holds the id no longer. */
export function refuseMappingStatement(
  db: D1Database,
  d: DueMapping,
  reason: string,
  now: number,
): D1PreparedStatement {
  const query = orm(db)
    .update(m)
    .set({
      status: "refused",
      verificationError: reason.slice(0, 500),
      nextVerifyAt: null,
      deletedAt: now,
      updatedAt: now,
    })
    .where(stillAsked(d));
  return d1Statement(db, query);
}

/** It could not be asked: ask again later, saying why. */
export async function postponeMapping(
  db: D1Database,
  d: DueMapping,
  reason: string,
  now: number,
  retryInMs = VERIFY_RETRY_MS,
): Promise<void> {
  await orm(db)
    .update(m)
    .set({ verificationError: reason.slice(0, 500), nextVerifyAt: now + retryInMs })
    .where(and(eq(m.id, d.id), eq(m.tenantId, d.tenantId), isNull(m.deletedAt)))
    .run();
}
