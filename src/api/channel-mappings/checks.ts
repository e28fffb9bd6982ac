import { ApiError } from "../../http/errors";
import { log } from "../../lib/log";
import { checkExternalId, PLATFORM_NAMES, type MappingType } from "../../platforms/external-ids";
import { unavailableText, verifyWithPlatform } from "../../services/mapping-verification";
import { ownConnection, type ConnectionRow } from "../../store/connections";
import { isEntityOfProperty } from "../../store/mapping-entities";
import { isTakenByOwner, liveMappingsHolding } from "../../store/mappings";
import { isUniqueViolation } from "../../store/errors";
import type { Platform } from "../../store/schema/channels.schema";

/**
 * What a mapping write must pass before it is stored: the connection is the tenant's and live,
 * the internal entity is the connection's property's, the external id has the platform's format,
 * neither id is mapped on the connection yet, and the platform itself confirms the id.
 */

export type Connection = ConnectionRow & { deletedAt: number | null };

/** The tenant's connection, not deleted; anything else is a 404 naming the field. */
export async function liveConnection(
  db: D1Database,
  tenantId: string,
  connectionId: string,
): Promise<Connection> {
  const connection = await ownConnection(db, tenantId, connectionId);
  if (!connection || connection.deletedAt !== null) {
    throw new ApiError(404, "not_found", `channel connection ${connectionId} not found`, [
      { path: "connection_id", message: "no live channel connection of this tenant has this id" },
    ]);
  }
  return connection;
}

export const LABEL: Record<MappingType, string> = {
  property: "property",
  room_type: "room type",
  rate_plan: "rate plan",
};

/** The internal id must be the connection's property, or a room type / rate plan of it. */
export async function assertInternalEntity(
  db: D1Database,
  connection: Connection,
  type: MappingType,
  internalId: string,
): Promise<void> {
  const { tenantId, propertyId } = connection;
  if (await isEntityOfProperty(db, tenantId, type, internalId, propertyId)) return;
  const message =
    type === "property"
      ? `property ${internalId} is not the property of connection ${connection.id}`
      : `${LABEL[type]} ${internalId} not found on property ${propertyId} of connection ${connection.id}`;
  throw new ApiError(404, "not_found", message, [{ path: "internal_id", message }]);
}

export function assertExternalFormat(
  platform: Platform,
  type: MappingType,
  externalId: string,
): void {
  const check = checkExternalId(platform, type, externalId);
  if (check.ok) return;
  throw new ApiError(422, "validation_failed", `body is invalid: external_id: ${check.rule}`, [
    { path: "external_id", message: check.rule },
  ]);
}

/** Unique both ways per connection and type among live mappings (the partial unique indexes). */
export async function assertUnique(
  db: D1Database,
  connection: Connection,
  claim: { mappingType: MappingType; internalId: string; externalId: string },
  exceptId: string | null,
): Promise<void> {
  const { mappingType: type, internalId, externalId } = claim;
  const held = await liveMappingsHolding(
    db,
    connection.tenantId,
    { connectionId: connection.id, ...claim },
    exceptId,
  );
  const platform = PLATFORM_NAMES[connection.platform];
  const sameInternal = held.find((r) => r.internalId === internalId);
  if (sameInternal) {
    throw new ApiError(
      409,
      "conflict",
      `${LABEL[type]} ${internalId} is already mapped on connection ${connection.id} (to ${platform} id ${sameInternal.externalId}, mapping ${sameInternal.id})`,
      { field: "internal_id", mapping_id: sameInternal.id },
    );
  }
  const sameExternal = held.find((r) => r.externalId === externalId);
  if (sameExternal) {
    throw new ApiError(
      409,
      "conflict",
      `${platform} ${LABEL[type]} id ${externalId} is already mapped on connection ${connection.id} (to ${sameExternal.internalId}, mapping ${sameExternal.id})`,
      { field: "external_id", mapping_id: sameExternal.id },
    );
  }
}

/**
 * A write refused by a unique index. The owner index (one live mapping per platform id across
 * every tenant) answers in words that never say whether, or which, other tenant holds the id; a
 * race against this connection's own indexes is the same 409 as one caught above.
 */
export function conflictOnUnique(platform: Platform, type: MappingType) {
  return (err: unknown): never => {
    if (!isUniqueViolation(err)) throw err;
    if (isTakenByOwner(err)) {
      throw new ApiError(409, "external_id_unavailable", unavailableText(platform, type), [
        { path: "external_id", message: unavailableText(platform, type) },
      ]);
    }
    throw new ApiError(
      409,
      "conflict",
      "the internal or external id is already mapped on this connection",
    );
  };
}

/** The mapping's verification columns after asking the platform (or why it could not be asked). */
export interface Checked {
  status: "confirmed" | "pending";
  verifiedAt: number | null;
  error: string | null;
}

/**
 * Ask the platform, with the connection's own credentials, whether it may be mapped. A "no" is a
 * 422 in the one wording that gives nothing away (the platform's own reason goes to the log); a
 * platform that cannot be asked now leaves the mapping pending, pushed to by nobody.
 */
export async function checkWithPlatform(
  env: Env,
  connection: Connection,
  type: MappingType,
  externalId: string,
  now: number,
): Promise<Checked> {
  const v = await verifyWithPlatform(env, connection, { mappingType: type, externalId });
  switch (v.status) {
    case "confirmed":
      return { status: "confirmed", verifiedAt: now, error: null };
    case "pending":
      return { status: "pending", verifiedAt: null, error: v.reason.slice(0, 500) };
    case "missing_credentials":
      throw new ApiError(422, "credentials_required", v.message, [
        { path: "connection_id", message: "the connection needs credentials of its own" },
      ]);
    case "refused":
      log("info", "mappings.refused", { connectionId: connection.id, type, reason: v.reason });
      throw new ApiError(
        422,
        "external_id_unavailable",
        unavailableText(connection.platform, type),
        [{ path: "external_id", message: unavailableText(connection.platform, type) }],
      );
  }
}
