import type { MappingStatus, Platform } from "./schema/channels.schema";
import { externalScope, type MappingType } from "../platforms/external-ids";

/**
 * Channel mapping writes that carry the platform's verdict, and the verify-mappings job's queue.
 * Every statement names the tenant. `external_scope` is derived here, in one place, so the owner
 * index (one live mapping per platform id across all tenants) always sees the same key.
 */

/** The platform is asked again this long after it could not be asked (unreachable, no adapter). */
export const VERIFY_RETRY_MS = 60_000;

export interface MappingWrite {
  id: string;
  connection_id: string;
  platform: Platform;
  mapping_type: MappingType;
  internal_id: string;
  external_id: string;
  status: MappingStatus;
  verified_at: number | null;
  verification_error: string | null;
  created_at: number;
  updated_at: number;
}

/** A pending mapping is due for the job; a confirmed one is not. */
function nextVerifyAt(m: Pick<MappingWrite, "status" | "updated_at">): number | null {
  return m.status === "pending" ? m.updated_at + VERIFY_RETRY_MS : null;
}

/** Insert; a unique index (this connection's, or the owner index) refuses a second live owner. */
export async function insertMapping(
  db: D1Database,
  tenantId: string,
  m: MappingWrite,
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id,
         external_id, external_scope, status, verified_at, verification_error, next_verify_at,
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      m.id,
      tenantId,
      m.connection_id,
      m.platform,
      m.mapping_type,
      m.internal_id,
      m.external_id,
      externalScope(m.platform, m.mapping_type, m.connection_id),
      m.status,
      m.verified_at,
      m.verification_error,
      nextVerifyAt(m),
      m.created_at,
      m.updated_at,
    )
    .run();
}

/** Change a live mapping's ids and verdict; 0 when it was deleted meanwhile. */
export async function updateMapping(
  db: D1Database,
  tenantId: string,
  m: MappingWrite,
): Promise<number> {
  const result = await db
    .prepare(
      `UPDATE channel_mappings SET internal_id = ?, external_id = ?, status = ?, verified_at = ?,
         verification_error = ?, next_verify_at = ?, updated_at = ?
       WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL`,
    )
    .bind(
      m.internal_id,
      m.external_id,
      m.status,
      m.verified_at,
      m.verification_error,
      nextVerifyAt(m),
      m.updated_at,
      m.id,
      tenantId,
    )
    .run();
  return result.meta.changes;
}

/** Soft-delete every live mapping of a connection (the connection itself is being deleted). */
export function deleteConnectionMappingsStatement(
  db: D1Database,
  tenantId: string,
  connectionId: string,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE channel_mappings SET deleted_at = ?, updated_at = ?, next_verify_at = NULL
       WHERE tenant_id = ? AND connection_id = ? AND deleted_at IS NULL`,
    )
    .bind(now, now, tenantId, connectionId);
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
  return db
    .prepare(
      `UPDATE channel_mappings SET status = 'pending', verified_at = NULL, next_verify_at = ?,
         verification_error = ?, updated_at = ?
       WHERE tenant_id = ? AND connection_id = ? AND deleted_at IS NULL`,
    )
    .bind(now, reason, now, tenantId, connectionId);
}

export interface DueMapping {
  id: string;
  tenantId: string;
  connectionId: string;
  platform: Platform;
  mappingType: MappingType;
  internalId: string;
  externalId: string;
  status: MappingStatus;
}

/**
 * Take up to `limit` mappings due for a check (pending ones, and ones made before checks existed),
 * leasing each for `leaseMs` by moving its next_verify_at: an overlapping run takes others.
 */
export async function takeDueMappings(
  db: D1Database,
  now: number,
  limit: number,
  leaseMs: number,
): Promise<DueMapping[]> {
  const { results } = await db
    .prepare(
      `UPDATE channel_mappings SET next_verify_at = ?
       WHERE id IN (SELECT id FROM channel_mappings
                    WHERE next_verify_at IS NOT NULL AND next_verify_at <= ? AND deleted_at IS NULL
                    ORDER BY next_verify_at LIMIT ?)
         AND next_verify_at <= ?
       RETURNING id, tenant_id AS tenantId, connection_id AS connectionId, platform,
         mapping_type AS mappingType, internal_id AS internalId, external_id AS externalId, status`,
    )
    .bind(now + leaseMs, now, limit, now)
    .all<DueMapping>();
  return results;
}

/** The platform confirmed it: pushed to and routed from now on. */
export async function confirmMapping(db: D1Database, m: DueMapping, now: number): Promise<number> {
  const result = await db
    .prepare(
      `UPDATE channel_mappings SET status = 'confirmed', verified_at = ?, verification_error = NULL,
         next_verify_at = NULL, updated_at = ?
       WHERE id = ? AND tenant_id = ? AND external_id = ? AND deleted_at IS NULL`,
    )
    .bind(now, now, m.id, m.tenantId, m.externalId)
    .run();
  return result.meta.changes;
}

/** The platform said no: the mapping is refused and soft-deleted, so it holds the id no longer. */
export function refuseMappingStatement(
  db: D1Database,
  m: DueMapping,
  reason: string,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE channel_mappings SET status = 'refused', verification_error = ?, next_verify_at = NULL,
         deleted_at = ?, updated_at = ?
       WHERE id = ? AND tenant_id = ? AND external_id = ? AND deleted_at IS NULL`,
    )
    .bind(reason.slice(0, 500), now, now, m.id, m.tenantId, m.externalId);
}

/** It could not be asked: ask again later, saying why. */
export async function postponeMapping(
  db: D1Database,
  m: DueMapping,
  reason: string,
  now: number,
  retryInMs = VERIFY_RETRY_MS,
): Promise<void> {
  await db
    .prepare(
      `UPDATE channel_mappings SET verification_error = ?, next_verify_at = ?
       WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL`,
    )
    .bind(reason.slice(0, 500), now + retryInMs, m.id, m.tenantId)
    .run();
}
