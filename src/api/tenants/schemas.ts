import { z } from "@hono/zod-openapi";
import { TOKEN_ROLES } from "../../store/schema/tenancy.schema";
import type { TenantRow, TokenView } from "../../store/tenants";

export const TokenSchema = z
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

export const NewTokenSchema = TokenSchema.extend({
  token: z.string().openapi({ description: "Shown once; only its hash is stored" }),
}).openapi("NewApiToken");

export const TenantSchema = z
  .object({ id: z.string(), name: z.string(), created_at: z.number().int() })
  .openapi("Tenant");

export const CreateTenantBody = z.object({
  name: z.string().trim().min(1).max(200).openapi({ example: "Alpine Stays GmbH" }),
});
export const CreateTokenBody = z.object({
  name: z.string().trim().min(1).max(100).openapi({ example: "PMS integration" }),
  role: z.enum(TOKEN_ROLES).default("read_only"),
});

/** Rows as the API writes them: snake_case; never a token's hash or tenant. */
export const presentTenant = (t: TenantRow): z.infer<typeof TenantSchema> => ({
  id: t.id,
  name: t.name,
  created_at: t.createdAt,
});

export const presentToken = (t: TokenView): z.infer<typeof TokenSchema> => ({
  id: t.id,
  name: t.name,
  role: t.role,
  token_prefix: t.tokenPrefix,
  created_at: t.createdAt,
  last_used_at: t.lastUsedAt,
  revoked_at: t.revokedAt,
});
