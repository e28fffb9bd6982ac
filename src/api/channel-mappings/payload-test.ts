import { inboundBlockReason } from "../../domain/connections";
import { ApiError } from "../../http/errors";
import type { PayloadProbe, ProbedPayload } from "../../platforms/contract";
import {
  checkExternalId,
  ID_NOUNS,
  PLATFORM_NAMES,
  type MappingType,
} from "../../platforms/external-ids";
import { capableModule } from "../../platforms/registry";
import {
  mappingsOfExternalId,
  otherConnectionOfProperty,
  otherRoomOwner,
  propertyNamed,
} from "../../store/mapping-entities";
import type { Connection } from "./checks";
import { PROBE_MODULES, type TestResult } from "./schemas";

/**
 * POST /test: what a sample inbound payload maps to on a connection, read-only. The platform's
 * probe (from the registry) reads the ids the payload names and says how the engine routes them:
 * by the platform's property id, or by the room's mapping.
 */

type Ref = TestResult["property"];

/** One run of the tester: the payload's ids and what it has warned about so far. */
interface Run {
  db: D1Database;
  connection: Connection;
  probe: PayloadProbe;
  ids: ProbedPayload;
  warnings: string[];
  propertyRow: Ref;
}

function payloadError(message: string): never {
  throw new ApiError(422, "validation_failed", `body is invalid: payload: ${message}`, [
    { path: "payload", message },
  ]);
}

/** The platform's probe and what it reads in the payload; a 422 when neither is there. */
function readPayload(
  connection: Connection,
  payload: Record<string, unknown>,
): { probe: PayloadProbe; ids: ProbedPayload } {
  const probe = capableModule(connection.platform, "probe")?.probe;
  if (!probe) {
    throw new ApiError(
      422,
      "unsupported_platform",
      `payloads can be tested for ${PROBE_MODULES.map((m) => m.id).join(" and ")} connections; ${connection.platform} has no inbound adapter yet`,
    );
  }
  const read = probe.read(payload);
  if ("error" in read) payloadError(read.error);
  return { probe, ids: read };
}

interface Resolved {
  live: { mappingId: string; internalId: string; name: string | null; pending: boolean } | null;
  deleted: { mappingId: string; internalId: string; deletedAt: number } | null;
}

/** The live mapping of this external id on the connection (and the latest deleted one). */
async function resolveExternal(run: Run, type: MappingType, externalId: string) {
  const rows = await mappingsOfExternalId(run.db, run.connection, type, externalId);
  const live = rows.find((r) => r.deletedAt === null);
  const deleted = rows.find((r) => r.deletedAt !== null);
  const resolved: Resolved = {
    live: live
      ? {
          mappingId: live.id,
          internalId: live.internalId,
          name: live.name,
          pending: live.status !== "confirmed",
        }
      : null,
    deleted:
      deleted && deleted.deletedAt !== null
        ? { mappingId: deleted.id, internalId: deleted.internalId, deletedAt: deleted.deletedAt }
        : null,
  };
  return resolved;
}

function warnDeleted(run: Run, r: Resolved, label: string): void {
  if (!r.deleted) return;
  run.warnings.push(
    `its mapping ${r.deleted.mappingId} (to ${label} ${r.deleted.internalId}) was deleted at ${new Date(r.deleted.deletedAt).toISOString()}`,
  );
}

/** A platform routing by its property id names the connection's external_property_id. */
async function resolveProperty(run: Run): Promise<Ref> {
  const { connection, ids, warnings } = run;
  const noun = ID_NOUNS[connection.platform].property;
  if (ids.property === null) {
    warnings.push(
      `the payload names no ${noun}_id; a pulled reservation belongs to the connection's ${noun} ${connection.externalPropertyId}`,
    );
    return run.propertyRow;
  }
  if (ids.property === connection.externalPropertyId) return run.propertyRow;
  warnings.push(
    `${noun} id ${ids.property} in the payload differs from the connection's external_property_id ${connection.externalPropertyId}`,
  );
  const other = await otherConnectionOfProperty(run.db, connection, ids.property);
  if (other) {
    warnings.push(
      `${noun} ${ids.property} is connection ${other.id} (property ${other.propertyId}): the engine would route the payload there`,
    );
  }
  return null;
}

/** An unmapped room: what happens to its bookings, and where they would go instead. */
async function warnUnmappedRoom(run: Run, r: Resolved, room: string, noun: string) {
  const { connection, warnings } = run;
  warnings.push(`${noun} ${room} is not mapped on this connection`);
  warnDeleted(run, r, "room type");
  // A room routed by its mapping goes to whichever connection maps it.
  if (run.probe.routesBy === "room") {
    const other = await otherRoomOwner(run.db, connection, room);
    if (other) {
      warnings.push(
        `${noun} ${room} is mapped on connection ${other.connectionId} (property ${other.propertyId}): the engine would route the booking there`,
      );
    }
  }
  warnings.push(
    "a booking for it would be kept as unmapped (and alerted) until the mapping exists, then imported",
  );
}

async function resolveRoom(run: Run, room: string): Promise<Ref> {
  const { connection, warnings } = run;
  const noun = ID_NOUNS[connection.platform].room_type;
  const format = checkExternalId(connection.platform, "room_type", room);
  if (!format.ok) warnings.push(`${noun} id ${room} has the wrong format: ${format.rule}`);
  const r = await resolveExternal(run, "room_type", room);
  if (r.live?.pending) {
    warnings.push(
      `${noun} ${room} is mapped (mapping ${r.live.mappingId}) but ${PLATFORM_NAMES[connection.platform]} has not confirmed it for this connection yet: a booking for it is kept unmapped until it does`,
    );
    return null;
  }
  if (r.live && r.live.name !== null) return { id: r.live.internalId, name: r.live.name };
  if (r.live) {
    warnings.push(
      `${noun} ${room} is mapped (mapping ${r.live.mappingId}) to room type ${r.live.internalId}, which is not a room type of property ${connection.propertyId}`,
    );
    return null;
  }
  await warnUnmappedRoom(run, r, room, noun);
  return null;
}

/** A rate plan the payload names; a missing one does not stop the import. */
async function resolveRate(run: Run, rate: string): Promise<Ref> {
  const r = await resolveExternal(run, "rate_plan", rate);
  if (r.live && r.live.name !== null) return { id: r.live.internalId, name: r.live.name };
  if (r.live) {
    run.warnings.push(
      `rate plan ${rate} is mapped (mapping ${r.live.mappingId}) to ${r.live.internalId}, which is not a rate plan of property ${run.connection.propertyId}`,
    );
    return null;
  }
  run.warnings.push(`rate plan ${rate} is not mapped on this connection`);
  warnDeleted(run, r, "rate plan");
  return null;
}

export async function testPayload(
  db: D1Database,
  connection: Connection,
  payload: Record<string, unknown>,
): Promise<TestResult> {
  const { probe, ids } = readPayload(connection, payload);
  const platformName = PLATFORM_NAMES[connection.platform];
  const warnings: string[] = [];
  const blocked = inboundBlockReason(connection);
  if (blocked) warnings.push(`${blocked}: the engine would not import bookings from it now`);
  if (ids.rejected) {
    warnings.push(`the ${platformName} ingress would reject this payload (${ids.rejected})`);
  }
  const propertyRow = await propertyNamed(db, connection.tenantId, connection.propertyId);
  const run: Run = { db, connection, probe, ids, warnings, propertyRow };
  let property = probe.routesBy === "property" ? await resolveProperty(run) : null;
  let roomType: Ref = null;
  if (ids.room !== null) {
    roomType = await resolveRoom(run, ids.room);
    // A room that stands alone routes to the property of the connection mapping it.
    if (probe.routesBy === "room" && roomType) property = propertyRow;
  } else {
    warnings.push(
      `a ${platformName} push names only the ${ID_NOUNS[connection.platform].property}: its rooms are resolved when the reservations are pulled`,
    );
  }
  const ratePlan = ids.rate === null ? null : await resolveRate(run, ids.rate);
  return {
    mapped: property !== null && (ids.room === null || roomType !== null),
    connection_id: connection.id,
    platform: connection.platform,
    payload_type: ids.type,
    external_ids: { property: ids.property, room_type: ids.room, rate_plan: ids.rate },
    property,
    room_type: roomType,
    rate_plan: ratePlan,
    warnings,
  };
}
