import { and, desc, eq, sql } from "drizzle-orm";
import { orm } from "./db";
import { apiTokens, tenants } from "./schema/tenancy.schema";

/**
 * Tenants and their API tokens. A token is stored only as its SHA-256 hash; the token itself is
 * shown once, by the route that minted it.
 */

export type TenantRow = typeof tenants.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
/** What anyone may see of a token: neither the hash nor the tenant. */
export type TokenView = Omit<ApiTokenRow, "tenantId" | "tokenHash">;

const TOKEN = {
  id: apiTokens.id,
  name: apiTokens.name,
  role: apiTokens.role,
  tokenPrefix: apiTokens.tokenPrefix,
  createdAt: apiTokens.createdAt,
  lastUsedAt: apiTokens.lastUsedAt,
  revokedAt: apiTokens.revokedAt,
};

/** The new token's row, for the caller's batch (or its own run). */
export function insertTokenStatement(db: D1Database, row: ApiTokenRow) {
  return orm(db).insert(apiTokens).values(row);
}

export async function insertToken(db: D1Database, row: ApiTokenRow): Promise<void> {
  await insertTokenStatement(db, row);
}

/** The tenant and its first token, both or neither. */
export async function insertTenant(
  db: D1Database,
  tenant: TenantRow,
  firstToken: ApiTokenRow,
): Promise<void> {
  await orm(db).batch([
    orm(db).insert(tenants).values(tenant),
    insertTokenStatement(db, firstToken),
  ]);
}

/** The token a bearer hash names, of whichever tenant (the hash is the credential). */
export async function tokenByHash(
  db: D1Database,
  hash: string,
): Promise<Pick<ApiTokenRow, "id" | "tenantId" | "role" | "revokedAt"> | undefined> {
  return orm(db)
    .select({
      id: apiTokens.id,
      tenantId: apiTokens.tenantId,
      role: apiTokens.role,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .where(eq(apiTokens.tokenHash, hash))
    .get();
}

export async function markTokenUsed(db: D1Database, id: string, now: number): Promise<void> {
  await orm(db).update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, id));
}

/** The tenant's tokens, newest first (a tenant has few: no pages). */
export async function listTokens(db: D1Database, tenantId: string): Promise<TokenView[]> {
  return orm(db)
    .select(TOKEN)
    .from(apiTokens)
    .where(eq(apiTokens.tenantId, tenantId))
    .orderBy(desc(apiTokens.createdAt));
}

/** Revoke once: a second revoke keeps the first time. Undefined when not the tenant's token. */
export async function revokeToken(
  db: D1Database,
  tenantId: string,
  id: string,
  now: number,
): Promise<TokenView | undefined> {
  return orm(db)
    .update(apiTokens)
    .set({ revokedAt: sql`COALESCE(${apiTokens.revokedAt}, ${now})` })
    .where(and(eq(apiTokens.id, id), eq(apiTokens.tenantId, tenantId)))
    .returning(TOKEN)
    .get();
}
