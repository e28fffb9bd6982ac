import type { z } from "@hono/zod-openapi";
import { gateFor } from "../../../durable-objects/channel-gate/client";
import { ApiError } from "../../http/errors";
import { newId } from "../../lib/ids";
import { errorMessage, log } from "../../lib/log";
import { replayUnmappedFor } from "../../queue/replay-unmapped";
import { ownConnection } from "../../store/connections";
import { insertMapping, ownMapping, updateMapping, type MappingView } from "../../store/mappings";
import {
  assertExternalFormat,
  assertInternalEntity,
  assertUnique,
  checkWithPlatform,
  conflictOnUnique,
  liveConnection,
  type Checked,
  type Connection,
} from "./checks";
import type { CreateMappingBody, UpdateMappingBody } from "./schemas";

/** Creating and changing a mapping, and what a confirmed one sets going. */

/** The tenant's mapping (deleted ones too); a 404 for anyone else's. */
export async function findMapping(db: D1Database, tenantId: string, id: string) {
  const mapping = await ownMapping(db, tenantId, id);
  if (!mapping) throw new ApiError(404, "not_found", `channel mapping ${id} not found`);
  return mapping;
}

export async function createMapping(
  env: Env,
  tenantId: string,
  body: z.infer<typeof CreateMappingBody>,
): Promise<MappingView> {
  const connection = await liveConnection(env.DB, tenantId, body.connection_id);
  const type = body.mapping_type;
  assertExternalFormat(connection.platform, type, body.external_id);
  await assertInternalEntity(env.DB, connection, type, body.internal_id);
  const claim = { mappingType: type, internalId: body.internal_id, externalId: body.external_id };
  await assertUnique(env.DB, connection, claim, null);
  const now = Date.now();
  const checked = await checkWithPlatform(env, connection, type, body.external_id, now);
  const mapping: MappingView = {
    id: newId("map"),
    connectionId: connection.id,
    propertyId: connection.propertyId,
    platform: connection.platform,
    ...claim,
    status: checked.status,
    verifiedAt: checked.verifiedAt,
    verificationError: checked.error,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  };
  await insertMapping(env.DB, tenantId, mapping).catch(conflictOnUnique(connection.platform, type));
  return mapping;
}

/** A mapping that may still change: live, and of a live connection (409 otherwise). */
async function changeable(
  db: D1Database,
  tenantId: string,
  id: string,
): Promise<{ current: MappingView; connection: Connection }> {
  const current = await findMapping(db, tenantId, id);
  if (current.deletedAt !== null) {
    throw new ApiError(
      409,
      "mapping_deleted",
      `channel mapping ${id} was deleted at ${new Date(current.deletedAt).toISOString()}; create a new one`,
    );
  }
  const connection = await ownConnection(db, tenantId, current.connectionId);
  if (!connection || connection.deletedAt !== null) {
    throw new ApiError(
      409,
      "connection_deleted",
      `channel connection ${current.connectionId} of mapping ${id} was deleted`,
    );
  }
  return { current, connection };
}

/** A new internal id keeps the platform's answer about the (unchanged) external id. */
function keptVerdict(current: MappingView): Checked {
  return {
    status: current.status === "confirmed" ? "confirmed" : "pending",
    verifiedAt: current.verifiedAt,
    error: current.verificationError,
  };
}

/** The changed mapping, or the current one unwritten when the body changes nothing. */
export async function changeMapping(
  env: Env,
  tenantId: string,
  id: string,
  body: z.infer<typeof UpdateMappingBody>,
): Promise<{ mapping: MappingView; written: boolean }> {
  const { current, connection } = await changeable(env.DB, tenantId, id);
  const internalId = body.internal_id ?? current.internalId;
  const externalId = body.external_id ?? current.externalId;
  if (internalId === current.internalId && externalId === current.externalId) {
    return { mapping: current, written: false };
  }
  const type = current.mappingType;
  const externalChanged = externalId !== current.externalId;
  if (externalChanged) assertExternalFormat(connection.platform, type, externalId);
  if (body.internal_id !== undefined) {
    await assertInternalEntity(env.DB, connection, type, internalId);
  }
  await assertUnique(env.DB, connection, { mappingType: type, internalId, externalId }, id);
  const now = Date.now();
  // A new platform id is asked about like a new mapping; a new internal id keeps the answer.
  const checked = externalChanged
    ? await checkWithPlatform(env, connection, type, externalId, now)
    : keptVerdict(current);
  const mapping: MappingView = {
    ...current,
    internalId,
    externalId,
    status: checked.status,
    verifiedAt: checked.verifiedAt,
    verificationError: checked.error,
    updatedAt: now,
  };
  const changes = await updateMapping(env.DB, tenantId, mapping).catch(
    conflictOnUnique(connection.platform, type),
  );
  if (changes === 0) {
    throw new ApiError(409, "mapping_deleted", `channel mapping ${id} was deleted meanwhile`);
  }
  return { mapping, written: true };
}

/**
 * A confirmed mapping syncs at once, off the response path: events kept as unmapped for its id
 * import now, and held work for it is pushable, so the connection's gate flushes.
 */
export function startSyncing(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  mapping: MappingView,
  tenantId: string,
): void {
  if (mapping.status !== "confirmed") return;
  ctx.waitUntil(
    replayUnmappedFor(env, {
      tenantId,
      connectionId: mapping.connectionId,
      platform: mapping.platform,
      mappingType: mapping.mappingType,
      externalId: mapping.externalId,
    })
      .then((replayed) => {
        if (replayed > 0) {
          log("info", "mappings.replayed_unmapped", { mappingId: mapping.id, replayed });
        }
      })
      .catch((err) =>
        log("error", "mappings.replay_failed", { mappingId: mapping.id, error: errorMessage(err) }),
      ),
  );
  if (mapping.mappingType === "property") return;
  ctx.waitUntil(
    gateFor(env, mapping.connectionId)
      .flushNow()
      .then(() => undefined)
      .catch((err: unknown) =>
        log("warn", "mappings.flush_failed", { mappingId: mapping.id, error: errorMessage(err) }),
      ),
  );
}
