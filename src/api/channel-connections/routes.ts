import { listSyncLogs } from "../../store/sync-logs";
import { createRoute } from "@hono/zod-openapi";
import { requireAdmin, requireTenantAuth } from "../../http/auth";
import { ApiError } from "../../http/errors";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  IdParam,
  jsonBody,
  ok,
  WRITE_ERRORS,
} from "../../http/openapi";
import { pageRequest, pageSchema, PageQuery } from "../../http/pagination";
import { newId } from "../../lib/ids";
import {
  insertConnection,
  listConnections,
  ownLiveConnection,
  softDeleteConnection,
  updateConnection,
} from "../../store/connections";
import { isUniqueViolation } from "../../store/errors";
import {
  deleteConnectionMappingsStatement,
  reverifyConnectionMappingsStatement,
} from "../../store/mappings";
import { ownProperty } from "../../store/properties";
import {
  canonicalPlatform,
  ConnectionSchema,
  CreateConnectionBody,
  ListQuery,
  SyncLogSchema,
  syncLogToApi,
  toApi,
  UpdateConnectionBody,
} from "./schemas";
import {
  assertNoLiveDuplicate,
  changesOf,
  duplicate,
  flushSoon,
  notFound,
  sealCredentials,
  unblocksOutbound,
} from "./service";

const tags = ["Channel connections"];

/** A live connection of the caller's tenant; another tenant's, unknown or deleted are one 404. */
async function liveConnectionOr404(db: D1Database, tenantId: string, id: string) {
  const row = await ownLiveConnection(db, tenantId, id);
  if (!row) throw notFound(id);
  return row;
}

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
      const filter = {
        propertyId: q.property_id,
        platform: q.platform && canonicalPlatform(q.platform),
        status: q.status,
      };
      const result = await listConnections(c.env.DB, c.var.auth.tenantId, filter, pageRequest(q));
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
      if (!(await ownProperty(c.env.DB, tenantId, body.property_id))) {
        throw new ApiError(404, "not_found", `property_id ${body.property_id} not found`, [
          { path: "property_id", message: "no such property" },
        ]);
      }
      const id = newId("con");
      const key = {
        id,
        propertyId: body.property_id,
        platform: canonicalPlatform(body.platform),
        externalPropertyId: body.external_property_id,
      };
      await assertNoLiveDuplicate(c.env.DB, key);
      const sealed = body.credentials
        ? await sealCredentials(c.env, { tenantId, connectionId: id }, body.credentials)
        : null;
      const now = Date.now();
      try {
        await insertConnection(c.env.DB, {
          ...key,
          tenantId,
          status: body.status,
          syncDirection: body.sync_direction,
          syncAvailability: body.sync_availability,
          syncPricing: body.sync_pricing,
          syncBookings: body.sync_bookings,
          credentialsCiphertext: sealed?.ciphertext ?? null,
          credentialsKeyId: sealed?.keyId ?? null,
          gateSettings: body.gate_settings ? JSON.stringify(body.gate_settings) : null,
          createdAt: now,
          updatedAt: now,
        });
      } catch (err) {
        // Lost a race with a concurrent create: same answer as the pre-check.
        if (isUniqueViolation(err)) throw duplicate("unknown", key);
        throw err;
      }
      return c.json(toApi(await liveConnectionOr404(c.env.DB, tenantId, id), c.env), 201);
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
      return c.json(
        toApi(await liveConnectionOr404(c.env.DB, c.var.auth.tenantId, id), c.env),
        200,
      );
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
      const before = await liveConnectionOr404(c.env.DB, tenantId, id);
      const key = {
        id,
        propertyId: before.propertyId,
        platform: before.platform,
        externalPropertyId: body.external_property_id ?? before.externalPropertyId,
      };
      const moved = key.externalPropertyId !== before.externalPropertyId;
      if (moved) await assertNoLiveDuplicate(c.env.DB, key);
      const set = await changesOf(c.env, { tenantId, connectionId: id }, body);
      // Another platform property or account: what the platform confirmed for the old one
      // proves nothing now, so its mappings are asked about again before anything syncs.
      const why = moved
        ? "the connection's external_property_id changed"
        : body.credentials !== undefined
          ? "the connection's credentials changed"
          : null;
      const now = Date.now();
      const beside = why
        ? [reverifyConnectionMappingsStatement(c.env.DB, tenantId, id, why, now)]
        : [];
      const row = await updateConnection(c.env.DB, tenantId, id, set, beside).catch((err) => {
        throw isUniqueViolation(err) ? duplicate(moved ? "external" : "unknown", key) : err;
      });
      if (!row) throw notFound(id);
      if (unblocksOutbound(before, row)) flushSoon(c.env, c.executionCtx, id);
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
      const beside = [deleteConnectionMappingsStatement(c.env.DB, tenantId, id, now)];
      const row = await softDeleteConnection(c.env.DB, tenantId, id, now, beside);
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
      const req = pageRequest(c.req.valid("query"));
      const tenantId = c.var.auth.tenantId;
      await liveConnectionOr404(c.env.DB, tenantId, id);
      const result = await listSyncLogs(c.env.DB, tenantId, { connectionId: id }, req);
      return c.json({ data: result.data.map(syncLogToApi), next_cursor: result.next_cursor }, 200);
    },
  );
