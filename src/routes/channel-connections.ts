import { createRoute, z } from "@hono/zod-openapi";
import { gateFor } from "../../durable-objects/channel-gate/client";
import { requireAdmin, requireTenantAuth } from "../http/auth";
import {
  CONNECTION_STATUSES,
  PLATFORMS,
  SYNC_DIRECTIONS,
  type Platform,
} from "../store/schema/channels.schema";
import { SYNC_STATUSES } from "../store/schema/events.schema";
import { engineConfig } from "../config";
import { gateSettingsFor } from "../services/gate-settings";
import {
  gateSettingsSchema,
  type CoalesceConfig,
  type GateSettingsInput,
} from "../domain/gate-settings";
import { ID_NOUNS } from "../platforms/external-ids";
import { ApiError } from "../http/errors";
import { isUniqueViolation } from "../store/errors";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  IdParam,
  IdRef,
  jsonBody,
  ok,
  WRITE_ERRORS,
} from "../http/openapi";
import { afterCursor, page, pageSchema, PageQuery } from "../http/pagination";
import { CredentialsError, encryptCredentials } from "../lib/credentials-crypto";
import { newId } from "../lib/ids";
import {
  deleteConnectionMappingsStatement,
  reverifyConnectionMappingsStatement,
} from "../store/mappings";
import { errorMessage, log } from "../lib/log";
import { aliasNote, PLATFORM_IDS, PLATFORM_INPUTS, platformOf } from "../platforms/ids";

/** A platform's id or alias (ids.ts), stored as the platform's id. */
const PlatformInput = z
  .enum(PLATFORM_INPUTS)
  .openapi({ example: PLATFORM_IDS[0], description: aliasNote("is an alias of") });
const canonicalPlatform: (p: z.infer<typeof PlatformInput>) => Platform = platformOf;

const MAX_CREDENTIAL_KEYS = 20;
const Credentials = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "keys are 1-64 letters, digits, _ . or -"),
    z.string().min(1).max(8192),
  )
  .refine((o) => Object.keys(o).length <= MAX_CREDENTIAL_KEYS, {
    message: `at most ${MAX_CREDENTIAL_KEYS} keys`,
  })
  .openapi({
    description:
      "Write-only: API keys, OAuth tokens, webhook secrets. Encrypted at rest (AES-GCM) and never returned.",
    example: { api_key: "…" },
  });

const ExternalPropertyId = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .openapi({ example: "1234567", description: "The platform's id of the property" });

/** The overrides as taken and stored: the domain's schema, documented here. */
const GateSettingsOverrides = gateSettingsSchema.openapi("GateSettingsOverrides", {
  description:
    "Per-connection overrides of the ChannelGate's pacing; every part is optional and whatever is " +
    "left out keeps the platform's default. rate_limit: capacity calls per rolling window_seconds, " +
    "reserve = share (0-0.5) kept for inbound calls. circuit: consecutive failures that open it, " +
    "seconds it stays open, successful probes that close it. coalesce: a push waits quiet_ms " +
    "after the last change but at most max_delay_ms after the first. Unknown keys are refused. " +
    "The gate applies them from its next flush.",
  example: { rate_limit: { capacity: 10, window_seconds: 60 }, circuit: { failure_threshold: 3 } },
});
/**
 * In request bodies: the domain schema itself, nullable, so a 422 names the inner field that is
 * wrong (a union would answer "invalid input" for a missing key). It stays unnamed (inline in the
 * document): .nullable() of the named component would turn that component nullable everywhere.
 */
const GateSettingsInputOrNull = gateSettingsSchema.nullable().optional();

const EffectiveGateSettings = z
  .object({
    rate_limit: z.object({
      capacity: z.number().openapi({ description: "Calls (Beds24: credits) per window" }),
      window_seconds: z.number(),
      reserve: z.number().openapi({ description: "Share of the capacity kept for inbound calls" }),
    }),
    circuit: z.object({
      failure_threshold: z.number().int(),
      open_seconds: z.number(),
      success_threshold: z.number().int(),
    }),
    coalesce: z.object({ quiet_ms: z.number().int(), max_delay_ms: z.number().int() }),
  })
  .openapi("EffectiveGateSettings", {
    description:
      "What the connection's ChannelGate applies: the platform's published limit and the engine " +
      "defaults, with gate_settings on top",
    example: {
      rate_limit: { capacity: 20, window_seconds: 60, reserve: 0.1 },
      circuit: { failure_threshold: 5, open_seconds: 60, success_threshold: 2 },
      coalesce: { quiet_ms: 200, max_delay_ms: 1000 },
    },
  });

const ConnectionSchema = z
  .object({
    id: z.string().openapi({ example: "con_4e1d…" }),
    property_id: z.string(),
    platform: z.enum(PLATFORMS),
    external_property_id: z.string(),
    status: z.enum(CONNECTION_STATUSES),
    sync_direction: z.enum(SYNC_DIRECTIONS),
    sync_availability: z.boolean(),
    sync_pricing: z.boolean(),
    sync_bookings: z.boolean(),
    has_credentials: z.boolean(),
    credentials_key_id: z
      .string()
      .nullable()
      .openapi({ description: "Id of the key the stored credentials are encrypted under" }),
    last_webhook_at: z.number().int().nullable(),
    last_outbound_success_at: z.number().int().nullable(),
    last_error: z.string().nullable(),
    // Responses are not validated: a union documents "the component or null" without altering it.
    gate_settings: z.union([GateSettingsOverrides, z.null()]).openapi({
      description: "The connection's own overrides; null when it uses the platform's defaults",
    }),
    effective_gate_settings: EffectiveGateSettings,
    created_at: z.number().int(),
    updated_at: z.number().int(),
  })
  .openapi("ChannelConnection");

const CreateConnectionBody = z
  .object({
    property_id: IdRef("prop_3b1f…"),
    platform: PlatformInput,
    external_property_id: ExternalPropertyId,
    status: z.enum(CONNECTION_STATUSES).default("pending"),
    sync_direction: z.enum(SYNC_DIRECTIONS).default("bidirectional"),
    sync_availability: z.boolean().default(true),
    sync_pricing: z.boolean().default(true),
    sync_bookings: z.boolean().default(true),
    credentials: Credentials.optional(),
    gate_settings: GateSettingsInputOrNull.openapi({
      description:
        "Overrides of the platform's defaults (see GateSettingsOverrides); absent or null: none",
      example: { rate_limit: { capacity: 10, window_seconds: 60 } },
    }),
  })
  .openapi("CreateChannelConnection");

const UpdateConnectionBody = z
  .object({
    external_property_id: ExternalPropertyId.optional(),
    status: z.enum(CONNECTION_STATUSES).optional(),
    sync_direction: z.enum(SYNC_DIRECTIONS).optional(),
    sync_availability: z.boolean().optional(),
    sync_pricing: z.boolean().optional(),
    sync_bookings: z.boolean().optional(),
    credentials: Credentials.nullable()
      .optional()
      .openapi({ description: "Replaces the stored credentials; null removes them" }),
    gate_settings: GateSettingsInputOrNull.openapi({
      description:
        "Replaces the stored overrides (see GateSettingsOverrides; not merged); null clears them",
      example: { circuit: { failure_threshold: 3, open_seconds: 120 } },
    }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: "give at least one field to change" })
  .openapi("UpdateChannelConnection");

const ListQuery = PageQuery.extend({
  property_id: IdRef("prop_3b1f…").optional(),
  platform: PlatformInput.optional(),
  status: z.enum(CONNECTION_STATUSES).optional(),
});

const SyncLogSchema = z
  .object({
    id: z.string(),
    event_id: z.string().nullable(),
    sync_type: z.string().openapi({ example: "availability_export" }),
    direction: z.enum(["inbound", "outbound"]),
    status: z.enum(SYNC_STATUSES),
    records_processed: z.number().int(),
    retry_count: z.number().int(),
    error: z.string().nullable(),
    triggered_at: z.number().int(),
    started_at: z.number().int().nullable(),
    finished_at: z.number().int().nullable(),
    duration_ms: z.number().int().nullable(),
  })
  .openapi("SyncLog");
type SyncLogRow = z.infer<typeof SyncLogSchema>;

type Connection = z.infer<typeof ConnectionSchema>;
type ConnectionRow = Omit<
  Connection,
  | "sync_availability"
  | "sync_pricing"
  | "sync_bookings"
  | "has_credentials"
  | "gate_settings"
  | "effective_gate_settings"
> & {
  tenant_id: string;
  sync_availability: number;
  sync_pricing: number;
  sync_bookings: number;
  has_credentials: number;
  /** JSON of the overrides, as the gate reads it (gate-settings.ts). */
  gate_settings: string | null;
};

// Never the ciphertext: only whether there is one and which key it is under.
const CONNECTION_COLUMNS = `id, tenant_id, property_id, platform, external_property_id, status, sync_direction,
  sync_availability, sync_pricing, sync_bookings,
  (credentials_ciphertext IS NOT NULL) AS has_credentials, credentials_key_id,
  last_webhook_at, last_outbound_success_at, last_error, gate_settings, created_at, updated_at`;

/** The stored overrides; a row that no longer validates is shown as null, as the gate ignores it. */
function storedGateSettings(stored: string | null): GateSettingsInput | null {
  if (!stored) return null;
  try {
    const parsed = gateSettingsSchema.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** gateSettingsFor's answer, in the API's snake_case and seconds. */
function effectiveGateSettings(
  row: ConnectionRow,
  coalesceDefaults: CoalesceConfig,
): z.infer<typeof EffectiveGateSettings> {
  const s = gateSettingsFor(row.platform, row.gate_settings, coalesceDefaults);
  return {
    rate_limit: {
      capacity: s.rateLimit.capacity,
      window_seconds: s.rateLimit.windowMs / 1000,
      reserve: s.rateLimit.reserve,
    },
    circuit: {
      failure_threshold: s.breaker.failureThreshold,
      open_seconds: s.breaker.openMs / 1000,
      success_threshold: s.breaker.successThreshold,
    },
    coalesce: { quiet_ms: s.coalesce.quietMs, max_delay_ms: s.coalesce.maxDelayMs },
  };
}

function toApi(row: ConnectionRow, env: Env): Connection {
  return {
    id: row.id,
    property_id: row.property_id,
    platform: row.platform,
    external_property_id: row.external_property_id,
    status: row.status,
    sync_direction: row.sync_direction,
    sync_availability: Boolean(row.sync_availability),
    sync_pricing: Boolean(row.sync_pricing),
    sync_bookings: Boolean(row.sync_bookings),
    has_credentials: Boolean(row.has_credentials),
    credentials_key_id: row.credentials_key_id,
    last_webhook_at: row.last_webhook_at,
    last_outbound_success_at: row.last_outbound_success_at,
    last_error: row.last_error,
    gate_settings: storedGateSettings(row.gate_settings),
    effective_gate_settings: effectiveGateSettings(row, engineConfig(env).coalesce),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const notFound = (id: string) =>
  new ApiError(404, "not_found", `channel connection ${id} not found`);

/** A live connection of the caller's tenant; another tenant's, unknown or deleted are one 404. */
async function ownConnection(db: D1Database, tenantId: string, id: string) {
  const row = await db
    .prepare(
      `SELECT ${CONNECTION_COLUMNS} FROM channel_connections
       WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL`,
    )
    .bind(id, tenantId)
    .first<ConnectionRow>();
  if (!row) throw notFound(id);
  return row;
}

/**
 * 409 before writing, naming the rule. The (platform, external id) rule spans tenants (a webhook
 * names only the platform's id), so that message never says whose connection it is.
 */
async function assertNoLiveDuplicate(
  db: D1Database,
  c: { id: string; propertyId: string; platform: Platform; externalPropertyId: string },
) {
  const clash = await db
    .prepare(
      `SELECT CASE WHEN property_id = ? THEN 'property' ELSE 'external' END AS kind
       FROM channel_connections
       WHERE deleted_at IS NULL AND id != ? AND platform = ? AND (property_id = ? OR external_property_id = ?)
       LIMIT 1`,
    )
    .bind(c.propertyId, c.id, c.platform, c.propertyId, c.externalPropertyId)
    .first<{ kind: "property" | "external" }>();
  if (clash) throw duplicate(clash.kind, c);
}

function duplicate(
  kind: "property" | "external" | "unknown",
  c: { propertyId: string; platform: Platform; externalPropertyId: string },
) {
  if (kind === "property") {
    return new ApiError(
      409,
      "conflict",
      `property ${c.propertyId} already has a live ${c.platform} connection`,
      [{ path: "platform", message: "one live connection per property and platform" }],
    );
  }
  if (kind === "external") {
    // Another connection holds it, maybe another tenant's: the words never say whose or whether.
    const message = `this ${ID_NOUNS[c.platform].property} cannot be connected: it is already connected elsewhere, or not reachable with this connection's credentials`;
    return new ApiError(409, "external_id_unavailable", message, [
      { path: "external_property_id", message },
    ]);
  }
  return new ApiError(409, "conflict", "conflicts with a live channel connection");
}

async function sealCredentials(
  env: Env,
  binding: { tenantId: string; connectionId: string },
  credentials: Record<string, string>,
) {
  try {
    return await encryptCredentials(env, binding, credentials);
  } catch (err) {
    if (!(err instanceof CredentialsError)) throw err;
    // The reason names the keyring entry at fault, never key material or the credentials.
    log("error", "credentials.encrypt_failed", { reason: err.message, code: err.code });
    throw new ApiError(
      500,
      "credentials_unavailable",
      "credentials could not be encrypted: the server's CREDENTIALS_KEYS is misconfigured",
    );
  }
}

const tags = ["Channel connections"];

/** /api/v1/channel-connections: one property on one platform, with write-only credentials. */
export const channelConnections = createRouter();
channelConnections.use("*", requireTenantAuth);
channelConnections
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List the tenant's live channel connections, newest first",
      security: BEARER,
      request: { query: ListQuery },
      responses: {
        200: ok("A page of connections", pageSchema(ConnectionSchema)),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const k = afterCursor(q.cursor);
      const where = ["tenant_id = ?", "deleted_at IS NULL"];
      const binds: Array<string | number> = [c.var.auth.tenantId];
      const filter = (clause: string, ...values: Array<string | number>) => {
        where.push(clause);
        binds.push(...values);
      };
      if (q.property_id) filter("property_id = ?", q.property_id);
      if (q.platform) filter("platform = ?", canonicalPlatform(q.platform));
      if (q.status) filter("status = ?", q.status);
      const rows = await c.env.DB.prepare(
        `SELECT ${CONNECTION_COLUMNS} FROM channel_connections WHERE ${where.join(" AND ")} ${k.sql}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
        .bind(...binds, ...k.binds, q.limit + 1)
        .all<ConnectionRow>();
      const result = page(rows.results, q.limit, (r) => r.created_at);
      return c.json(
        { data: result.data.map((r) => toApi(r, c.env)), next_cursor: result.next_cursor },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Connect a property to a platform (admin)",
      description:
        "One live connection per (property, platform) and per (platform, external_property_id). " +
        "Credentials are encrypted before they are stored and never returned. gate_settings " +
        "overrides the platform's rate limit, circuit breaker and coalescing window for this " +
        "connection; effective_gate_settings shows what applies.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: jsonBody(CreateConnectionBody),
      responses: { 201: ok("The new connection", ConnectionSchema), ...WRITE_ERRORS },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const tenantId = c.var.auth.tenantId;
      const property = await c.env.DB.prepare(
        `SELECT id FROM properties WHERE id = ? AND tenant_id = ?`,
      )
        .bind(body.property_id, tenantId)
        .first<{ id: string }>();
      if (!property) {
        throw new ApiError(404, "not_found", `property_id ${body.property_id} not found`, [
          { path: "property_id", message: "no such property" },
        ]);
      }
      const id = newId("con");
      const platform = canonicalPlatform(body.platform);
      const key = {
        id,
        propertyId: body.property_id,
        platform,
        externalPropertyId: body.external_property_id,
      };
      await assertNoLiveDuplicate(c.env.DB, key);
      const sealed = body.credentials
        ? await sealCredentials(c.env, { tenantId, connectionId: id }, body.credentials)
        : null;
      const now = Date.now();
      try {
        await c.env.DB.prepare(
          `INSERT INTO channel_connections (id, tenant_id, property_id, platform, external_property_id, status,
             sync_direction, sync_availability, sync_pricing, sync_bookings, credentials_ciphertext,
             credentials_key_id, gate_settings, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
          .bind(
            id,
            tenantId,
            body.property_id,
            platform,
            body.external_property_id,
            body.status,
            body.sync_direction,
            body.sync_availability ? 1 : 0,
            body.sync_pricing ? 1 : 0,
            body.sync_bookings ? 1 : 0,
            sealed?.ciphertext ?? null,
            sealed?.keyId ?? null,
            body.gate_settings ? JSON.stringify(body.gate_settings) : null,
            now,
            now,
          )
          .run();
      } catch (err) {
        // Lost a race with a concurrent create: same answer as the pre-check.
        if (isUniqueViolation(err)) throw duplicate("unknown", key);
        throw err;
      }
      return c.json(toApi(await ownConnection(c.env.DB, tenantId, id), c.env), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a channel connection (credentials are never returned)",
      security: BEARER,
      request: { params: IdParam },
      responses: { 200: ok("The connection", ConnectionSchema), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(toApi(await ownConnection(c.env.DB, c.var.auth.tenantId, id), c.env), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Change a channel connection (admin)",
      description:
        "Property and platform are fixed. Credentials, when given, replace the stored ones. " +
        "Turning a connection active or a sync flag on flushes its pending outbound work. " +
        "gate_settings replaces the stored overrides (null clears them); the ChannelGate applies " +
        "them from its next flush.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam, ...jsonBody(UpdateConnectionBody) },
      responses: { 200: ok("The updated connection", ConnectionSchema), ...WRITE_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const tenantId = c.var.auth.tenantId;
      const before = await ownConnection(c.env.DB, tenantId, id);
      const key = {
        id,
        propertyId: before.property_id,
        platform: before.platform,
        externalPropertyId: body.external_property_id ?? before.external_property_id,
      };
      if (key.externalPropertyId !== before.external_property_id) {
        await assertNoLiveDuplicate(c.env.DB, key);
      }

      const sets: string[] = [];
      const binds: Array<string | number | null> = [];
      const set = (column: string, value: string | number | null) => {
        sets.push(`${column} = ?`);
        binds.push(value);
      };
      if (body.external_property_id !== undefined)
        set("external_property_id", body.external_property_id);
      if (body.status !== undefined) set("status", body.status);
      if (body.sync_direction !== undefined) set("sync_direction", body.sync_direction);
      if (body.sync_availability !== undefined)
        set("sync_availability", body.sync_availability ? 1 : 0);
      if (body.sync_pricing !== undefined) set("sync_pricing", body.sync_pricing ? 1 : 0);
      if (body.sync_bookings !== undefined) set("sync_bookings", body.sync_bookings ? 1 : 0);
      if (body.credentials !== undefined) {
        const sealed =
          body.credentials === null
            ? null
            : await sealCredentials(c.env, { tenantId, connectionId: id }, body.credentials);
        set("credentials_ciphertext", sealed?.ciphertext ?? null);
        set("credentials_key_id", sealed?.keyId ?? null);
      }
      if (body.gate_settings !== undefined) {
        set("gate_settings", body.gate_settings ? JSON.stringify(body.gate_settings) : null);
      }
      set("updated_at", Date.now());

      let row: ConnectionRow | null;
      const now = Date.now();
      const moved = key.externalPropertyId !== before.external_property_id;
      try {
        const update = c.env.DB.prepare(
          `UPDATE channel_connections SET ${sets.join(", ")}
           WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL RETURNING ${CONNECTION_COLUMNS}`,
        ).bind(...binds, id, tenantId);
        // Another platform property or account: what the platform confirmed for the old one
        // proves nothing now, so its mappings are asked about again before anything syncs.
        const why = moved
          ? "the connection's external_property_id changed"
          : body.credentials !== undefined
            ? "the connection's credentials changed"
            : null;
        const results = await c.env.DB.batch<ConnectionRow>([
          update,
          ...(why ? [reverifyConnectionMappingsStatement(c.env.DB, tenantId, id, why, now)] : []),
        ]);
        row = results[0]?.results[0] ?? null;
      } catch (err) {
        if (isUniqueViolation(err)) throw duplicate(moved ? "external" : "unknown", key);
        throw err;
      }
      if (!row) throw notFound(id);

      if (unblocksOutbound(before, row)) {
        // Pending outbound work (kept while blocked) goes out now rather than at the next change.
        c.executionCtx.waitUntil(
          gateFor(c.env, id)
            .flushNow()
            .then(() => undefined)
            .catch((err: unknown) =>
              log("warn", "connection.flush_failed", {
                connectionId: id,
                error: errorMessage(err),
              }),
            ),
        );
      }
      return c.json(toApi(row, c.env), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Disconnect and soft-delete a channel connection (admin)",
      description:
        "The row is kept (deleted_at, status disconnected) so bookings and logs keep resolving; " +
        "afterwards the connection answers 404 and a new one may take its property and platform.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: { 200: ok("The disconnected connection", ConnectionSchema), ...WRITE_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const now = Date.now();
      const tenantId = c.var.auth.tenantId;
      // Its mappings go with it, so the platform ids they held can be mapped again elsewhere.
      const [deleted] = await c.env.DB.batch<ConnectionRow>([
        c.env.DB.prepare(
          `UPDATE channel_connections SET deleted_at = ?, status = 'disconnected', updated_at = ?
           WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL RETURNING ${CONNECTION_COLUMNS}`,
        ).bind(now, now, id, tenantId),
        deleteConnectionMappingsStatement(c.env.DB, tenantId, id, now),
      ]);
      const row = deleted?.results[0];
      if (!row) throw notFound(id);
      return c.json(toApi(row, c.env), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/sync-logs",
      tags,
      summary: "A connection's sync log, newest first",
      security: BEARER,
      request: { params: IdParam, query: PageQuery },
      responses: {
        200: ok("A page of sync log entries", pageSchema(SyncLogSchema)),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { limit, cursor } = c.req.valid("query");
      const k = afterCursor(cursor, "triggered_at");
      const tenantId = c.var.auth.tenantId;
      await ownConnection(c.env.DB, tenantId, id);
      const rows = await c.env.DB.prepare(
        `SELECT id, event_id, sync_type, direction, status, records_processed, retry_count, error,
                triggered_at, started_at, finished_at, duration_ms
         FROM sync_logs WHERE tenant_id = ? AND connection_id = ? ${k.sql}
         ORDER BY triggered_at DESC, id DESC LIMIT ?`,
      )
        .bind(tenantId, id, ...k.binds, limit + 1)
        .all<SyncLogRow>();
      return c.json(
        page(rows.results, limit, (r) => r.triggered_at),
        200,
      );
    },
  );

/** Did this change lift something that kept outbound pushes from going out? */
function unblocksOutbound(before: ConnectionRow, after: ConnectionRow): boolean {
  if (after.status !== "active") return false;
  return (
    before.status !== "active" ||
    (!before.sync_availability && Boolean(after.sync_availability)) ||
    (!before.sync_pricing && Boolean(after.sync_pricing)) ||
    (!before.sync_bookings && Boolean(after.sync_bookings)) ||
    (before.sync_direction === "inbound_only" && after.sync_direction !== "inbound_only")
  );
}
