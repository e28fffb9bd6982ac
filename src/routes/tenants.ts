import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, requireOperator, requireTenantAuth } from "../http/auth";
import { generateApiToken, hashApiToken, tokenPrefix } from "../http/tokens";
import { TOKEN_ROLES } from "../store/schema/tenancy.schema";
import { ApiError } from "../http/errors";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  IdParam,
  jsonContent,
  ok,
  WRITE_ERRORS,
} from "../http/openapi";
import { newId } from "../lib/ids";

const TokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(TOKEN_ROLES),
    token_prefix: z.string().openapi({ description: "First characters, to tell tokens apart" }),
    created_at: z.number().int(),
    last_used_at: z.number().int().nullable(),
    revoked_at: z.number().int().nullable(),
  })
  .openapi("ApiToken");

const NewTokenSchema = TokenSchema.extend({
  token: z.string().openapi({ description: "Shown once; only its hash is stored" }),
}).openapi("NewApiToken");

const TenantSchema = z
  .object({ id: z.string(), name: z.string(), created_at: z.number().int() })
  .openapi("Tenant");

const CreateTenantBody = z.object({
  name: z.string().trim().min(1).max(200).openapi({ example: "Alpine Stays GmbH" }),
});
const CreateTokenBody = z.object({
  name: z.string().trim().min(1).max(100).openapi({ example: "PMS integration" }),
  role: z.enum(TOKEN_ROLES).default("read_only"),
});

interface TokenRow {
  id: string;
  name: string;
  role: (typeof TOKEN_ROLES)[number];
  token_prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}
const TOKEN_COLUMNS = `id, name, role, token_prefix, created_at, last_used_at, revoked_at`;

async function insertToken(db: D1Database, tenantId: string, name: string, role: TokenRow["role"]) {
  const token = generateApiToken();
  const row: TokenRow = {
    id: newId("tok"),
    name,
    role,
    token_prefix: tokenPrefix(token),
    created_at: Date.now(),
    last_used_at: null,
    revoked_at: null,
  };
  const statement = db
    .prepare(
      `INSERT INTO api_tokens (id, tenant_id, name, role, token_hash, token_prefix, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      row.id,
      tenantId,
      name,
      role,
      await hashApiToken(token),
      row.token_prefix,
      row.created_at,
    );
  return { row: { ...row, token }, statement };
}

/** POST /api/v1/tenants: the operator creates an agency and gets its first admin token, once. */
export const tenants = createRouter().openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["Tenants"],
    summary: "Create a tenant (operator token) and its first admin API token",
    security: BEARER,
    middleware: [requireOperator] as const,
    request: { body: jsonContent(CreateTenantBody) },
    responses: {
      201: ok(
        "The tenant and its first admin token (shown once)",
        z.object({ tenant: TenantSchema, token: NewTokenSchema }),
      ),
      ...WRITE_ERRORS,
    },
  }),
  async (c) => {
    const { name } = c.req.valid("json");
    const tenant = { id: newId("ten"), name, created_at: Date.now() };
    const { row, statement } = await insertToken(c.env.DB, tenant.id, "first admin token", "admin");
    await c.env.DB.batch([
      c.env.DB.prepare(`INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)`).bind(
        tenant.id,
        tenant.name,
        tenant.created_at,
      ),
      statement,
    ]);
    return c.json({ tenant, token: row }, 201);
  },
);

/** /api/v1/tokens: a tenant admin lists, creates and revokes the tenant's API tokens. */
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
      const rows = await c.env.DB.prepare(
        `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE tenant_id = ? ORDER BY created_at DESC`,
      )
        .bind(c.var.auth.tenantId)
        .all<TokenRow>();
      return c.json({ data: rows.results }, 200);
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
      const { row, statement } = await insertToken(
        c.env.DB,
        c.var.auth.tenantId,
        body.name,
        body.role,
      );
      await statement.run();
      return c.json(row, 201);
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
      const row = await c.env.DB.prepare(
        `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND tenant_id = ?
         RETURNING ${TOKEN_COLUMNS}`,
      )
        .bind(Date.now(), id, c.var.auth.tenantId)
        .first<TokenRow>();
      if (!row) throw new ApiError(404, "not_found", `token ${id} not found`);
      return c.json(row, 200);
    },
  );
