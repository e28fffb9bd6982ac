import { createRoute } from "@hono/zod-openapi";
import { requireAdmin, requireTenantAuth } from "../../http/auth";
import { ApiError } from "../../http/errors";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  IdParam,
  jsonContent,
  ok,
  WRITE_ERRORS,
} from "../../http/openapi";
import { pageRequest, pageSchema } from "../../http/pagination";
import { listMappings, softDeleteMapping } from "../../store/mappings";
import {
  CreateMappingBody,
  ListQuery,
  MappingSchema,
  present,
  TAGS,
  UpdateMappingBody,
} from "./schemas";
import { changeMapping, createMapping, findMapping, startSyncing } from "./service";
import { testHandler, testRoute } from "./test-route";

/**
 * /api/v1/channel-mappings: internal property / room type / rate plan ↔ the platform's id, per
 * channel connection. Unique both ways per connection and type among live rows; the external id's
 * format is checked per platform (src/platforms/external-ids.ts); delete is soft, so bookings
 * and events keep resolving through the old row. Every query is scoped to the caller's tenant;
 * another tenant's ids answer 404 exactly like ids that do not exist.
 */

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags: TAGS,
  summary: "List channel mappings (newest first; deleted ones only with include_deleted)",
  security: BEARER,
  request: { query: ListQuery },
  responses: { 200: ok("A page of mappings", pageSchema(MappingSchema)), ...AUTH_ERRORS },
});

const createMappingRoute = createRoute({
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
});

const readRoute = createRoute({
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
});

const updateRoute = createRoute({
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
});

const deleteRoute = createRoute({
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
});

export const channelMappings = createRouter();
channelMappings.use("*", requireTenantAuth);

channelMappings
  .openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const filter = {
      connectionId: q.connection_id,
      propertyId: q.property_id,
      platform: q.platform,
      mappingType: q.mapping_type,
      includeDeleted: q.include_deleted,
    };
    const found = await listMappings(
      c.env.DB,
      c.var.auth.tenantId,
      filter,
      pageRequest(q, "desc", { emptyCursorIsFirstPage: true }),
    );
    return c.json({ data: found.data.map(present), next_cursor: found.next_cursor }, 200);
  })
  .openapi(createMappingRoute, async (c) => {
    const tenantId = c.var.auth.tenantId;
    const mapping = await createMapping(c.env, tenantId, c.req.valid("json"));
    startSyncing(c.env, c.executionCtx, mapping, tenantId);
    return c.json(present(mapping), 201);
  })
  .openapi(testRoute, testHandler)
  .openapi(readRoute, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(present(await findMapping(c.env.DB, c.var.auth.tenantId, id)), 200);
  })
  .openapi(updateRoute, async (c) => {
    const { id } = c.req.valid("param");
    const tenantId = c.var.auth.tenantId;
    const { mapping, written } = await changeMapping(c.env, tenantId, id, c.req.valid("json"));
    if (written) startSyncing(c.env, c.executionCtx, mapping, tenantId);
    return c.json(present(mapping), 200);
  })
  .openapi(deleteRoute, async (c) => {
    const { id } = c.req.valid("param");
    const tenantId = c.var.auth.tenantId;
    if ((await softDeleteMapping(c.env.DB, tenantId, id, Date.now())) === 0) {
      throw new ApiError(404, "not_found", `channel mapping ${id} not found`);
    }
    return c.json(present(await findMapping(c.env.DB, tenantId, id)), 200);
  });
