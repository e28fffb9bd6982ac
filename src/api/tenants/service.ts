import { generateApiToken, hashApiToken, tokenPrefix } from "../../http/tokens";
import { newId } from "../../lib/ids";
import type { ApiTokenRow } from "../../store/tenants";
import { presentToken, type NewTokenSchema } from "./schemas";
import type { z } from "@hono/zod-openapi";

/**
 * A new API token of the tenant: the row to store (its hash, never the token) and the answer that
 * shows the token once. Shared by tenant creation (its first admin token) and POST /tokens.
 */
export async function mintToken(
  tenantId: string,
  name: string,
  role: ApiTokenRow["role"],
): Promise<{ row: ApiTokenRow; shown: z.infer<typeof NewTokenSchema> }> {
  const token = generateApiToken();
  const row: ApiTokenRow = {
    id: newId("tok"),
    tenantId,
    name,
    role,
    tokenHash: await hashApiToken(token),
    tokenPrefix: tokenPrefix(token),
    createdAt: Date.now(),
    lastUsedAt: null,
    revokedAt: null,
  };
  return { row, shown: { ...presentToken(row), token } };
}
