import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { gateFor } from "../../durable-objects/channel-gate/client";
import { requireAdmin, requireTenantAuth } from "../http/auth";
import {
  MAPPING_STATUSES,
  MAPPING_TYPES,
  PLATFORMS,
  type MappingStatus,
  type Platform,
} from "../store/schema/channels.schema";
import { inboundBlockReason } from "../domain/connections";
import type { ConnectionRow } from "../store/connections";
import {
  checkExternalId,
  externalIdRulesMarkdown,
  ID_NOUNS,
  PLATFORM_NAMES,
  type MappingType,
} from "../platforms/external-ids";
import { ApiError } from "../http/errors";
import { isUniqueViolation } from "../store/errors";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  ID_FORMAT,
  IdParam,
  jsonContent,
  ok,
  WRITE_ERRORS,
  type AppEnv,
} from "../http/openapi";
import { afterCursor, page, pageSchema, PageQuery } from "../http/pagination";
import { newId } from "../lib/ids";
import { errorMessage, log } from "../lib/log";
import type { ProbedPayload } from "../platforms/contract";
import { aliasNote, PLATFORM_INPUTS, platformOf } from "../platforms/ids";
import { capableModule, withCapability } from "../platforms/registry";
import { replayUnmappedFor } from "../queue/replay-unmapped";
import { insertMapping, updateMapping, type MappingWrite } from "../store/mappings";
import { unavailableText, verifyWithPlatform } from "../services/mapping-verification";

/**
 * /api/v1/channel-mappings: internal property / room type / rate plan ↔ the platform's id, per
 * channel connection. Unique both ways per connection and type among live rows; the external id's
 * format is checked per platform (src/domain/external-id-rules.ts); delete is soft, so bookings
 * and events keep resolving through the old row. Every query is scoped to the caller's tenant;
 * another tenant's ids answer 404 exactly like ids that do not exist.
 */

/** Like IdRef, but trimmed first. */
const idField = (example: string) =>
  z.string().trim().regex(ID_FORMAT, "must be an id like con_…").openapi({ example });

const MappingSchema = z
  .object({
    id: z.string().openapi({ example: "map_5d0f…" }),
    connection_id: z.string(),
    property_id: z.string().openapi({ description: "The connection's property" }),
    platform: z.enum(PLATFORMS).openapi({ description: "Taken from the connection" }),
    mapping_type: z.enum(MAPPING_TYPES),
    internal_id: z.string().openapi({ description: "Property, room type or rate plan id" }),
    external_id: z.string().openapi({ description: "The platform's id" }),
    status: z.enum(MAPPING_STATUSES).openapi({
      description:
        "confirmed: the platform confirmed, with the connection's own credentials, that the id is this account's; only confirmed mappings are pushed to and route bookings. pending: the platform could not be asked yet (unreachable, or no adapter yet); it is asked again every minute. refused: the platform later said no; the mapping is deleted with it.",
    }),
    verified_at: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "When the platform last confirmed the id; null: never" }),
    verification_error: z
      .string()
      .nullable()
      .openapi({ description: "Why the last check did not confirm it" }),
    created_at: z.number().int(),
    updated_at: z.number().int(),
    deleted_at: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Set by DELETE; the row stays readable for history" }),
  })
  .openapi("ChannelMapping");
type Mapping = z.infer<typeof MappingSchema>;

const ExternalIdField = z
  .string()
  .trim()
  .min(1)
  .max(2048)
  .openapi({
    example: "53170118",
    description: `The platform's id; its format is checked per platform and mapping type (a wrong one is a 422 naming the rule):\n${externalIdRulesMarkdown()}`,
  });

const CreateMappingBody = z
  .object({
    connection_id: idField("con_9f2c…"),
    mapping_type: z.enum(MAPPING_TYPES),
    internal_id: idField("rt_4b1a…").openapi({
      description:
        "A property (the connection's), room type or rate plan of the connection's property",
    }),
    external_id: ExternalIdField,
  })
  .openapi("CreateChannelMapping");

const UpdateMappingBody = z
  .object({
    internal_id: idField("rt_4b1a…").optional(),
    external_id: ExternalIdField.optional(),
  })
  .refine((b) => b.internal_id !== undefined || b.external_id !== undefined, {
    message: "give external_id and/or internal_id",
  })
  .openapi("UpdateChannelMapping");

const ListQuery = PageQuery.extend({
  connection_id: idField("con_9f2c…").optional(),
  property_id: idField("prop_71ae…")
    .optional()
    .openapi({ description: "Mappings of the property's connections" }),
  platform: z
    .enum(PLATFORM_INPUTS)
    .optional()
    .transform((p) => (p === undefined ? undefined : platformOf(p)))
    .openapi({ description: aliasNote("is accepted for") }),
  mapping_type: z.enum(MAPPING_TYPES).optional(),
  include_deleted: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => v === "true")
    .openapi({ description: "Also list soft-deleted mappings (default false)" }),
});

/** The platforms whose sample payloads can be tested, and the kinds of payload each reads. */
const PROBE_MODULES = withCapability("probe");
const PAYLOAD_TYPES = PROBE_MODULES.flatMap((m) => m.probe.payloadTypes) as [string, ...string[]];

const TestBody = z
  .object({
    connection_id: idField("con_9f2c…"),
    payload: z.record(z.string(), z.unknown()).openapi({
      description:
        "A sample inbound payload of the connection's platform: an Airbnb webhook {listing_id, confirmation_code, …} or reservation {reservation: {listing_id, …}}; a Booking.com push {hotel_id, reservation_id, …} or reservation {hotel_id, room_id, rate_plan_id?}",
      example: {
        event_id: "evt_1",
        event_type: "reservation.created",
        listing_id: "53170118",
        confirmation_code: "HMABCD1234",
        occurred_at: "2027-05-01T10:00:00Z",
      },
    }),
  })
  .openapi("ChannelMappingTest");

const EntityRef = z.object({ id: z.string(), name: z.string() });

const TestResultSchema = z
  .object({
    mapped: z.boolean().openapi({
      description: "Everything the payload names that a booking needs resolves on this connection",
    }),
    connection_id: z.string(),
    platform: z.enum(PLATFORMS),
    payload_type: z.enum(PAYLOAD_TYPES),
    external_ids: z.object({
      property: z.string().nullable(),
      room_type: z.string().nullable(),
      rate_plan: z.string().nullable(),
    }),
    property: EntityRef.nullable(),
    room_type: EntityRef.nullable(),
    rate_plan: EntityRef.nullable(),
    warnings: z.array(z.string()),
  })
  .openapi("ChannelMappingTestResult");
type TestResult = z.infer<typeof TestResultSchema>;

// ---------------------------------------------------------------------------------------------
// Queries (every one carries the caller's tenant)

/** A mapping as the store writes it, with its connection's property and its deletion time. */
type MappingRow = MappingWrite & { property_id: string; deleted_at: number | null };

const MAPPING_SELECT = `SELECT m.id, m.connection_id, c.property_id, m.platform, m.mapping_type, m.internal_id,
    m.external_id, m.status, m.verified_at, m.verification_error, m.created_at, m.updated_at, m.deleted_at
  FROM channel_mappings m JOIN channel_connections c ON c.id = m.connection_id AND c.tenant_id = m.tenant_id`;

async function findMapping(db: D1Database, tenantId: string, id: string): Promise<Mapping> {
  const row = await db
    .prepare(`${MAPPING_SELECT} WHERE m.id = ? AND m.tenant_id = ?`)
    .bind(id, tenantId)
    .first<MappingRow>();
  if (!row) throw new ApiError(404, "not_found", `channel mapping ${id} not found`);
  return row;
}

type Connection = ConnectionRow & { deletedAt: number | null };

async function findConnection(
  db: D1Database,
  tenantId: string,
  connectionId: string,
): Promise<Connection | null> {
  return db
    .prepare(
      `SELECT id, tenant_id AS tenantId, property_id AS propertyId, platform,
         external_property_id AS externalPropertyId, status, sync_direction AS syncDirection,
         sync_availability AS syncAvailability, sync_pricing AS syncPricing,
         sync_bookings AS syncBookings, deleted_at AS deletedAt
       FROM channel_connections WHERE id = ? AND tenant_id = ?`,
    )
    .bind(connectionId, tenantId)
    .first<Connection>();
}

/** The tenant's connection, not deleted; anything else is a 404 naming the field. */
async function liveConnection(
  db: D1Database,
  tenantId: string,
  connectionId: string,
): Promise<Connection> {
  const connection = await findConnection(db, tenantId, connectionId);
  if (!connection || connection.deletedAt !== null) {
    throw new ApiError(404, "not_found", `channel connection ${connectionId} not found`, [
      { path: "connection_id", message: "no live channel connection of this tenant has this id" },
    ]);
  }
  return connection;
}

const LABEL: Record<MappingType, string> = {
  property: "property",
  room_type: "room type",
  rate_plan: "rate plan",
};

/** Internal entities by mapping type: static table names only (never from input). */
const ENTITY_TABLE: Record<MappingType, "properties" | "room_types" | "rate_plans"> = {
  property: "properties",
  room_type: "room_types",
  rate_plan: "rate_plans",
};

/** The internal id must be the connection's property, or a room type / rate plan of it. */
async function assertInternalEntity(
  db: D1Database,
  connection: Connection,
  type: MappingType,
  internalId: string,
): Promise<void> {
  const where = type === "property" ? "id = ?" : "property_id = ?";
  const row = await db
    .prepare(`SELECT id FROM ${ENTITY_TABLE[type]} WHERE id = ? AND tenant_id = ? AND ${where}`)
    .bind(internalId, connection.tenantId, connection.propertyId)
    .first<{ id: string }>();
  if (row) return;
  const message =
    type === "property"
      ? `property ${internalId} is not the property of connection ${connection.id}`
      : `${LABEL[type]} ${internalId} not found on property ${connection.propertyId} of connection ${connection.id}`;
  throw new ApiError(404, "not_found", message, [{ path: "internal_id", message }]);
}

function assertExternalFormat(platform: Platform, type: MappingType, externalId: string): void {
  const check = checkExternalId(platform, type, externalId);
  if (check.ok) return;
  throw new ApiError(422, "validation_failed", `body is invalid: external_id: ${check.rule}`, [
    { path: "external_id", message: check.rule },
  ]);
}

/** Unique both ways per connection and type among live mappings (the partial unique indexes). */
async function assertUnique(
  db: D1Database,
  connection: Connection,
  type: MappingType,
  internalId: string,
  externalId: string,
  exceptId: string | null,
): Promise<void> {
  const { results } = await db
    .prepare(
      `SELECT id, internal_id, external_id FROM channel_mappings
       WHERE tenant_id = ? AND connection_id = ? AND mapping_type = ? AND deleted_at IS NULL
         AND (internal_id = ? OR external_id = ?) AND id <> ?`,
    )
    .bind(connection.tenantId, connection.id, type, internalId, externalId, exceptId ?? "")
    .all<{ id: string; internal_id: string; external_id: string }>();
  const platform = PLATFORM_NAMES[connection.platform];
  const sameInternal = results.find((r) => r.internal_id === internalId);
  if (sameInternal) {
    throw new ApiError(
      409,
      "conflict",
      `${LABEL[type]} ${internalId} is already mapped on connection ${connection.id} (to ${platform} id ${sameInternal.external_id}, mapping ${sameInternal.id})`,
      { field: "internal_id", mapping_id: sameInternal.id },
    );
  }
  const sameExternal = results.find((r) => r.external_id === externalId);
  if (sameExternal) {
    throw new ApiError(
      409,
      "conflict",
      `${platform} ${LABEL[type]} id ${externalId} is already mapped on connection ${connection.id} (to ${sameExternal.internal_id}, mapping ${sameExternal.id})`,
      { field: "external_id", mapping_id: sameExternal.id },
    );
  }
}

/**
 * A write refused by a unique index. The owner index (one live mapping per platform id across
 * every tenant) answers in words that never say whether, or which, other tenant holds the id; a
 * race against this connection's own indexes is the same 409 as one caught above.
 */
function conflictOnUnique(platform: Platform, type: MappingType) {
  return (err: unknown): never => {
    if (!isUniqueViolation(err)) throw err;
    if (
      String(err).includes("external_scope") ||
      String((err as Error).cause).includes("external_scope")
    ) {
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
interface Checked {
  status: "confirmed" | "pending";
  verifiedAt: number | null;
  error: string | null;
}

/**
 * Ask the platform, with the connection's own credentials, whether it may be mapped. A "no" is a
 * 422 in the one wording that gives nothing away (the platform's own reason goes to the log); a
 * platform that cannot be asked now leaves the mapping pending, pushed to by nobody.
 */
async function checkWithPlatform(
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

/** A confirmed mapping makes held work pushable: flush the connection's gate now. */
function flushAfterConfirm(c: Context<AppEnv>, mapping: Mapping): void {
  if (mapping.status !== "confirmed" || mapping.mapping_type === "property") return;
  c.executionCtx.waitUntil(
    gateFor(c.env, mapping.connection_id)
      .flushNow()
      .then(() => undefined)
      .catch((err: unknown) =>
        log("warn", "mappings.flush_failed", { mappingId: mapping.id, error: errorMessage(err) }),
      ),
  );
}

/** Events kept as unmapped for this id import now: replayed off the response path. */
function replayAfterMapping(c: Context<AppEnv>, mapping: Mapping, tenantId: string): void {
  c.executionCtx.waitUntil(
    replayUnmappedFor(c.env, {
      tenantId,
      connectionId: mapping.connection_id,
      platform: mapping.platform,
      mappingType: mapping.mapping_type,
      externalId: mapping.external_id,
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
}

// ---------------------------------------------------------------------------------------------
// POST /test: what a sample inbound payload maps to

function payloadError(message: string): never {
  throw new ApiError(422, "validation_failed", `body is invalid: payload: ${message}`, [
    { path: "payload", message },
  ]);
}

interface Resolved {
  live: { mappingId: string; internalId: string; name: string | null; pending: boolean } | null;
  deleted: { mappingId: string; internalId: string; deletedAt: number } | null;
}

/** The live mapping of this external id on the connection (and the latest deleted one). */
async function resolveExternal(
  db: D1Database,
  connection: Connection,
  type: MappingType,
  externalId: string,
): Promise<Resolved> {
  const scope = type === "property" ? "e.id = ?" : "e.property_id = ?";
  const { results } = await db
    .prepare(
      `SELECT m.id, m.internal_id, m.deleted_at, m.status, e.name
       FROM channel_mappings m
       LEFT JOIN ${ENTITY_TABLE[type]} e ON e.id = m.internal_id AND e.tenant_id = m.tenant_id AND ${scope}
       WHERE m.tenant_id = ? AND m.connection_id = ? AND m.mapping_type = ? AND m.external_id = ?
       ORDER BY m.deleted_at IS NOT NULL, m.deleted_at DESC LIMIT 5`,
    )
    .bind(connection.propertyId, connection.tenantId, connection.id, type, externalId)
    .all<{
      id: string;
      internal_id: string;
      deleted_at: number | null;
      status: MappingStatus;
      name: string | null;
    }>();
  const live = results.find((r) => r.deleted_at === null);
  const deleted = results.find((r) => r.deleted_at !== null);
  return {
    live: live
      ? {
          mappingId: live.id,
          internalId: live.internal_id,
          name: live.name,
          pending: live.status !== "confirmed",
        }
      : null,
    deleted:
      deleted && deleted.deleted_at !== null
        ? { mappingId: deleted.id, internalId: deleted.internal_id, deletedAt: deleted.deleted_at }
        : null,
  };
}

async function testPayload(
  db: D1Database,
  connection: Connection,
  payload: Record<string, unknown>,
): Promise<TestResult> {
  const platformName = PLATFORM_NAMES[connection.platform];
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
  const ids: ProbedPayload = read;
  const warnings: string[] = [];
  const blocked = inboundBlockReason(connection);
  if (blocked) warnings.push(`${blocked}: the engine would not import bookings from it now`);
  if (ids.rejected) {
    warnings.push(`the ${platformName} ingress would reject this payload (${ids.rejected})`);
  }

  const propertyRow = await db
    .prepare(`SELECT id, name FROM properties WHERE id = ? AND tenant_id = ?`)
    .bind(connection.propertyId, connection.tenantId)
    .first<{ id: string; name: string }>();
  let property: TestResult["property"] = null;
  let roomType: TestResult["room_type"] = null;
  let ratePlan: TestResult["rate_plan"] = null;

  // Property: a platform routing by property id (a Booking.com hotel) names the connection's
  // external_property_id.
  if (probe.routesBy === "property") {
    if (ids.property === null) {
      warnings.push(
        `the payload names no hotel_id; a pulled reservation belongs to the connection's hotel ${connection.externalPropertyId}`,
      );
      property = propertyRow;
    } else if (ids.property === connection.externalPropertyId) {
      property = propertyRow;
    } else {
      warnings.push(
        `hotel id ${ids.property} in the payload differs from the connection's external_property_id ${connection.externalPropertyId}`,
      );
      const other = await db
        .prepare(
          `SELECT id, property_id FROM channel_connections
           WHERE tenant_id = ? AND platform = ? AND external_property_id = ? AND deleted_at IS NULL AND id <> ?
           LIMIT 1`,
        )
        .bind(connection.tenantId, connection.platform, ids.property, connection.id)
        .first<{ id: string; property_id: string }>();
      if (other) {
        warnings.push(
          `hotel ${ids.property} is connection ${other.id} (property ${other.property_id}): the engine would route the payload there`,
        );
      }
    }
  }

  // Room type: the Airbnb listing / Booking.com room.
  const roomWord = ID_NOUNS[connection.platform].room_type;
  if (ids.room !== null) {
    const format = checkExternalId(connection.platform, "room_type", ids.room);
    if (!format.ok)
      warnings.push(`${roomWord} id ${ids.room} has the wrong format: ${format.rule}`);
    const r = await resolveExternal(db, connection, "room_type", ids.room);
    if (r.live?.pending) {
      warnings.push(
        `${roomWord} ${ids.room} is mapped (mapping ${r.live.mappingId}) but ${platformName} has not confirmed it for this connection yet: a booking for it is kept unmapped until it does`,
      );
    } else if (r.live && r.live.name !== null) {
      roomType = { id: r.live.internalId, name: r.live.name };
    } else if (r.live) {
      warnings.push(
        `${roomWord} ${ids.room} is mapped (mapping ${r.live.mappingId}) to room type ${r.live.internalId}, which is not a room type of property ${connection.propertyId}`,
      );
    } else {
      warnings.push(`${roomWord} ${ids.room} is not mapped on this connection`);
      if (r.deleted) {
        warnings.push(
          `its mapping ${r.deleted.mappingId} (to room type ${r.deleted.internalId}) was deleted at ${new Date(r.deleted.deletedAt).toISOString()}`,
        );
      }
      // A room routed by its mapping goes to whichever connection maps it.
      if (probe.routesBy === "room") {
        const other = await db
          .prepare(
            `SELECT m.connection_id, c.property_id FROM channel_mappings m
             JOIN channel_connections c ON c.id = m.connection_id AND c.tenant_id = m.tenant_id
             WHERE m.tenant_id = ? AND m.platform = ? AND m.mapping_type = 'room_type'
               AND m.external_id = ? AND m.deleted_at IS NULL AND c.deleted_at IS NULL AND m.connection_id <> ?
             LIMIT 1`,
          )
          .bind(connection.tenantId, connection.platform, ids.room, connection.id)
          .first<{ connection_id: string; property_id: string }>();
        if (other) {
          warnings.push(
            `listing ${ids.room} is mapped on connection ${other.connection_id} (property ${other.property_id}): the engine would route the booking there`,
          );
        }
      }
      warnings.push(
        "a booking for it would be kept as unmapped (and alerted) until the mapping exists, then imported",
      );
    }
    // A listing stands alone (Airbnb): mapped listing → the connection's property.
    if (probe.routesBy === "room" && roomType) property = propertyRow;
  } else {
    warnings.push(
      `a ${platformName} push names only the hotel: its rooms are resolved when the reservations are pulled`,
    );
  }

  // Rate plan: named by Booking.com reservations; a missing one does not stop the import.
  if (ids.rate !== null) {
    const r = await resolveExternal(db, connection, "rate_plan", ids.rate);
    if (r.live && r.live.name !== null) {
      ratePlan = { id: r.live.internalId, name: r.live.name };
    } else if (r.live) {
      warnings.push(
        `rate plan ${ids.rate} is mapped (mapping ${r.live.mappingId}) to ${r.live.internalId}, which is not a rate plan of property ${connection.propertyId}`,
      );
    } else {
      warnings.push(`rate plan ${ids.rate} is not mapped on this connection`);
      if (r.deleted) {
        warnings.push(
          `its mapping ${r.deleted.mappingId} (to rate plan ${r.deleted.internalId}) was deleted at ${new Date(r.deleted.deletedAt).toISOString()}`,
        );
      }
    }
  }

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

// ---------------------------------------------------------------------------------------------
// Routes

export const channelMappings = createRouter();
channelMappings.use("*", requireTenantAuth);

const TAGS = ["Channel mappings"];

channelMappings
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: TAGS,
      summary: "List channel mappings (newest first; deleted ones only with include_deleted)",
      security: BEARER,
      request: { query: ListQuery },
      responses: { 200: ok("A page of mappings", pageSchema(MappingSchema)), ...AUTH_ERRORS },
    }),
    async (c) => {
      const q = c.req.valid("query");
      // An empty ?cursor= is the first page here.
      const k = afterCursor(q.cursor || undefined, "m.created_at", "m.id");
      const where = ["m.tenant_id = ?"];
      const binds: Array<string | number> = [c.var.auth.tenantId];
      if (q.connection_id) {
        where.push("m.connection_id = ?");
        binds.push(q.connection_id);
      }
      if (q.property_id) {
        where.push("c.property_id = ?");
        binds.push(q.property_id);
      }
      if (q.platform) {
        where.push("m.platform = ?");
        binds.push(q.platform);
      }
      if (q.mapping_type) {
        where.push("m.mapping_type = ?");
        binds.push(q.mapping_type);
      }
      if (!q.include_deleted) where.push("m.deleted_at IS NULL");
      const { results } = await c.env.DB.prepare(
        `${MAPPING_SELECT} WHERE ${where.join(" AND ")} ${k.sql}
         ORDER BY m.created_at DESC, m.id DESC LIMIT ?`,
      )
        .bind(...binds, ...k.binds, q.limit + 1)
        .all<MappingRow>();
      return c.json(
        page(results, q.limit, (r) => r.created_at),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: TAGS,
      summary: "Map an internal property / room type / rate plan to the platform's id (admin)",
      description:
        "The platform comes from the connection. The engine asks the platform, with the connection's own credentials and through its ChannelGate, whether it knows the id and this account may write it: confirmed mappings sync at once (events kept as unmapped for the id are replayed); while the platform cannot be reached the mapping is kept `pending`, pushed to by nobody, and asked about again every minute. 404 if the connection or the internal entity is not this tenant's (or not the connection's property's); 422 validation_failed naming the rule if the external id has the wrong format; 422 external_id_unavailable if the platform does not confirm it, and 409 external_id_unavailable if it is live on another connection — one wording for both that never says whether, or which, other tenant holds it; 422 credentials_required if the connection has no credentials of its own where the platform needs them; 409 conflict if either id is already mapped on this connection.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { body: jsonContent(CreateMappingBody) },
      responses: {
        201: ok("The new mapping", MappingSchema),
        ...WRITE_ERRORS,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const tenantId = c.var.auth.tenantId;
      const connection = await liveConnection(c.env.DB, tenantId, body.connection_id);
      const type = body.mapping_type;
      assertExternalFormat(connection.platform, type, body.external_id);
      await assertInternalEntity(c.env.DB, connection, type, body.internal_id);
      await assertUnique(c.env.DB, connection, type, body.internal_id, body.external_id, null);
      const now = Date.now();
      const checked = await checkWithPlatform(c.env, connection, type, body.external_id, now);
      const mapping: Mapping = {
        id: newId("map"),
        connection_id: connection.id,
        property_id: connection.propertyId,
        platform: connection.platform,
        mapping_type: type,
        internal_id: body.internal_id,
        external_id: body.external_id,
        status: checked.status,
        verified_at: checked.verifiedAt,
        verification_error: checked.error,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      };
      await insertMapping(c.env.DB, tenantId, mapping).catch(
        conflictOnUnique(connection.platform, type),
      );
      if (mapping.status === "confirmed") {
        replayAfterMapping(c, mapping, tenantId);
        flushAfterConfirm(c, mapping);
      }
      return c.json(mapping, 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/test",
      tags: TAGS,
      summary: "Run a sample inbound payload against the connection's mappings (read-only)",
      description:
        "Answers what the payload maps to on this connection, with warnings for anything that would not resolve (unmapped listing or room, hotel id that differs from the connection's, deleted mapping, inactive connection, payload the ingress would reject). Nothing is stored.",
      security: BEARER,
      request: { body: jsonContent(TestBody) },
      responses: {
        200: ok("What the payload maps to", TestResultSchema),
        ...AUTH_ERRORS,
        422: WRITE_ERRORS[422],
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const connection = await liveConnection(c.env.DB, c.var.auth.tenantId, body.connection_id);
      return c.json(await testPayload(c.env.DB, connection, body.payload), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: TAGS,
      summary: "Read a channel mapping (deleted ones too, with deleted_at set)",
      security: BEARER,
      request: { params: IdParam },
      responses: {
        200: ok("The mapping", MappingSchema),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await findMapping(c.env.DB, c.var.auth.tenantId, id), 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/{id}",
      tags: TAGS,
      summary: "Change a mapping's external and/or internal id (admin)",
      description:
        "Same checks as creating one; a new external id is asked about with the platform again (a new internal id keeps the platform's answer). A deleted mapping (or one of a deleted connection) cannot be changed: 409.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: {
        params: IdParam,
        body: jsonContent(UpdateMappingBody),
      },
      responses: {
        200: ok("The updated mapping", MappingSchema),
        ...WRITE_ERRORS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const tenantId = c.var.auth.tenantId;
      const current = await findMapping(c.env.DB, tenantId, id);
      if (current.deleted_at !== null) {
        throw new ApiError(
          409,
          "mapping_deleted",
          `channel mapping ${id} was deleted at ${new Date(current.deleted_at).toISOString()}; create a new one`,
        );
      }
      const connection = await findConnection(c.env.DB, tenantId, current.connection_id);
      if (!connection || connection.deletedAt !== null) {
        throw new ApiError(
          409,
          "connection_deleted",
          `channel connection ${current.connection_id} of mapping ${id} was deleted`,
        );
      }
      const internalId = body.internal_id ?? current.internal_id;
      const externalId = body.external_id ?? current.external_id;
      if (internalId === current.internal_id && externalId === current.external_id) {
        return c.json(current, 200);
      }
      const type = current.mapping_type;
      const externalChanged = externalId !== current.external_id;
      if (externalChanged) assertExternalFormat(connection.platform, type, externalId);
      if (body.internal_id !== undefined) {
        await assertInternalEntity(c.env.DB, connection, type, internalId);
      }
      await assertUnique(c.env.DB, connection, type, internalId, externalId, id);
      const now = Date.now();
      // A new platform id is asked about like a new mapping; a new internal id keeps the answer.
      const checked: Checked = externalChanged
        ? await checkWithPlatform(c.env, connection, type, externalId, now)
        : {
            status: current.status === "confirmed" ? "confirmed" : "pending",
            verifiedAt: current.verified_at,
            error: current.verification_error,
          };
      const updated: Mapping = {
        ...current,
        internal_id: internalId,
        external_id: externalId,
        status: checked.status,
        verified_at: checked.verifiedAt,
        verification_error: checked.error,
        updated_at: now,
      };
      const changes = await updateMapping(c.env.DB, tenantId, updated).catch(
        conflictOnUnique(connection.platform, type),
      );
      if (changes === 0) {
        throw new ApiError(409, "mapping_deleted", `channel mapping ${id} was deleted meanwhile`);
      }
      if (updated.status === "confirmed") {
        replayAfterMapping(c, updated, tenantId);
        flushAfterConfirm(c, updated);
      }
      return c.json(updated, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: TAGS,
      summary: "Soft-delete a mapping (admin); it stays readable so history keeps resolving",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: {
        200: ok("The mapping, with deleted_at set (deleting again changes nothing)", MappingSchema),
        ...WRITE_ERRORS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const tenantId = c.var.auth.tenantId;
      const now = Date.now();
      const result = await c.env.DB.prepare(
        `UPDATE channel_mappings
         SET updated_at = CASE WHEN deleted_at IS NULL THEN ? ELSE updated_at END,
             deleted_at = COALESCE(deleted_at, ?)
         WHERE id = ? AND tenant_id = ?`,
      )
        .bind(now, now, id, tenantId)
        .run();
      if (result.meta.changes === 0) {
        throw new ApiError(404, "not_found", `channel mapping ${id} not found`);
      }
      return c.json(await findMapping(c.env.DB, tenantId, id), 200);
    },
  );
