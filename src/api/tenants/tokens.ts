import { createRoute, z } from "@hono/zod-openapi";
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
import { insertToken, listTokens, revokeToken } from "../../store/tenants";
import { CreateTokenBody, NewTokenSchema, presentToken, TokenSchema } from "./schemas";
import { mintToken } from "./service";

/**
 * /api/v1/tokens: a tenant admin lists, creates and revokes the tenant's API tokens. It lives
 * beside the tenants router because a tenant is created with its first token, of the same shape.
 */
export const tokens = createRouter();
tokens.use("*", requireTenantAuth);
tokens
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Tokens"],
      summary: "List the tenant's API tokens (never the tokens themselves)",
      security: BEARER,
      responses: {
        200: ok("Tokens, newest first", z.object({ data: z.array(TokenSchema) })),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const rows = await listTokens(c.env.DB, c.var.auth.tenantId);
      return c.json({ data: rows.map(presentToken) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Tokens"],
      summary: "Create an API token (admin)",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { body: jsonContent(CreateTokenBody) },
      responses: {
        201: ok("The new token, shown once", NewTokenSchema),
        ...WRITE_ERRORS,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { row, shown } = await mintToken(c.var.auth.tenantId, body.name, body.role);
      await insertToken(c.env.DB, row);
      return c.json(shown, 201);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: ["Tokens"],
      summary: "Revoke an API token (admin)",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: {
        200: ok("The revoked token", TokenSchema),
        ...WRITE_ERRORS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await revokeToken(c.env.DB, c.var.auth.tenantId, id, Date.now());
      if (!row) throw new ApiError(404, "not_found", `token ${id} not found`);
      return c.json(presentToken(row), 200);
    },
  );
