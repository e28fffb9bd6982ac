import type { Platform } from "../platforms/ids";
import { connectionCiphertext } from "../store/connections";
import { decryptCredentials } from "../lib/credentials-crypto";
import { PLATFORM_NAMES } from "../platforms/external-ids";
import { platformConfig, usesHostAccounts, type PlatformConfig } from "../platforms/registry";
import { PlatformError } from "../platforms/contract";

/**
 * A connection of a host-account platform (Airbnb, Beds24) that has no credentials of its own and
 * may not borrow the Worker's: nothing can be sent for it until someone stores its own.
 */
export class MissingCredentialsError extends PlatformError {
  constructor(platform: Platform, connectionId: string) {
    super(
      platform,
      "permanent",
      `connection ${connectionId} has no ${PLATFORM_NAMES[platform]} credentials of its own (set credentials.refresh_token on it); the Worker's app-level host credentials are not shared with this tenant`,
    );
    this.name = "MissingCredentialsError";
  }
}

/**
 * The one tenant whose connections may use the Worker's app-level host credentials
 * (AIRBNB_REFRESH_TOKEN, BEDS24_REFRESH_TOKEN) when they store none of their own. Unset (the
 * default) means none may: one host account's credentials in two tenants would let either write
 * the other's listings. A single-agency deployment (and the local demo) names its tenant.
 */
export function appCredentialsTenant(env: object): string | null {
  const value = (env as { APP_CREDENTIALS_TENANT?: unknown }).APP_CREDENTIALS_TENANT;
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

/**
 * The platform settings for one connection: the app-level ones from Worker secrets, overridden by
 * the connection's own encrypted credentials (a host's OAuth refresh token, an API key) if it has
 * any. Where each host account has its own credentials, a connection without any borrows the
 * app-level ones only for the tenant APP_CREDENTIALS_TENANT names. Decrypted only here, in
 * memory, just before a call.
 */
export async function connectionConfig(
  env: Env,
  connection: { id: string; tenantId: string; platform: Platform },
): Promise<PlatformConfig> {
  const base = platformConfig(env, connection.platform);
  const ciphertext = await connectionCiphertext(env.DB, connection.tenantId, connection.id);
  if (!ciphertext) {
    const borrows = usesHostAccounts(connection.platform);
    if (borrows && appCredentialsTenant(env) !== connection.tenantId) {
      throw new MissingCredentialsError(connection.platform, connection.id);
    }
    return base;
  }
  const own = await decryptCredentials(
    env,
    { tenantId: connection.tenantId, connectionId: connection.id },
    ciphertext,
  );
  return {
    ...base,
    credentials: {
      clientId: own.client_id ?? base.credentials.clientId,
      clientSecret: own.client_secret ?? base.credentials.clientSecret,
      // A connection's own credentials never fall back to the app's host token.
      ...(own.refresh_token ? { refreshToken: own.refresh_token } : {}),
      account: connection.id,
    },
  };
}
