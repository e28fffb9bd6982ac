import { createRoute, z } from "@hono/zod-openapi";
import { requireOperator } from "../../http/auth";
import { BEARER, createRouter, jsonContent, ok, WRITE_ERRORS } from "../../http/openapi";
import { newId } from "../../lib/ids";
import { insertTenant, type TenantRow } from "../../store/tenants";
import { CreateTenantBody, NewTokenSchema, presentTenant, TenantSchema } from "./schemas";
import { mintToken } from "./service";

export { tokens } from "./tokens";

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
    const tenant: TenantRow = { id: newId("ten"), name, createdAt: Date.now() };
    const first = await mintToken(tenant.id, "first admin token", "admin");
    await insertTenant(c.env.DB, tenant, first.row);
    return c.json({ tenant: presentTenant(tenant), token: first.shown }, 201);
  },
);
