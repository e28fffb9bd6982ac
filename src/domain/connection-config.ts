import type { Platform } from "../db/channels.schema";
import { decryptCredentials } from "../lib/credentials-crypto";
import { platformConfig, type PlatformConfig } from "../platforms/registry";

/**
 * The platform settings for one connection: the app-level ones from Worker secrets, overridden by
 * the connection's own encrypted credentials (a host's OAuth refresh token, an API key) if it has
 * any. Decrypted only here, in memory, just before a call.
 */
export async function connectionConfig(
  env: Env,
  connection: { id: string; tenantId: string; platform: Platform },
): Promise<PlatformConfig> {
  const base = platformConfig(env, connection.platform);
  const row = await env.DB.prepare(
    `SELECT credentials_ciphertext AS ciphertext FROM channel_connections WHERE id = ? AND tenant_id = ?`,
  )
    .bind(connection.id, connection.tenantId)
    .first<{ ciphertext: string | null }>();
  if (!row?.ciphertext) return base;
  const own = await decryptCredentials(
    env,
    { tenantId: connection.tenantId, connectionId: connection.id },
    row.ciphertext,
  );
  return {
    ...base,
    credentials: {
      clientId: own.client_id ?? base.credentials.clientId,
      clientSecret: own.client_secret ?? base.credentials.clientSecret,
      refreshToken: own.refresh_token ?? base.credentials.refreshToken,
      account: connection.id,
    },
  };
}
