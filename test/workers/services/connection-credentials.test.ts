import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { connectionConfig } from "../../../src/services/connections";
import { encryptCredentials } from "../../../src/lib/credentials-crypto";
import { seedPortfolio } from "../../support/fixtures";

async function setCredentials(
  tenantId: string,
  connectionId: string,
  creds: Record<string, string>,
) {
  const { ciphertext, keyId } = await encryptCredentials(env, { tenantId, connectionId }, creds);
  await env.DB.prepare(
    `UPDATE channel_connections SET credentials_ciphertext = ?, credentials_key_id = ? WHERE id = ?`,
  )
    .bind(ciphertext, keyId, connectionId)
    .run();
}

describe("per-connection credentials", () => {
  it("uses the app-level credentials when the connection has none, for APP_CREDENTIALS_TENANT", async () => {
    const p = await seedPortfolio();
    await env.DB.prepare(
      `UPDATE channel_connections SET credentials_ciphertext = NULL, credentials_key_id = NULL WHERE id = ?`,
    )
      .bind(p.airbnb.connectionId)
      .run();
    const config = await connectionConfig({ ...env, APP_CREDENTIALS_TENANT: p.tenantId } as Env, {
      id: p.airbnb.connectionId,
      tenantId: p.tenantId,
      platform: "airbnb",
    });
    expect(config.credentials.refreshToken).toBe(env.AIRBNB_REFRESH_TOKEN);
    expect(config.credentials.account).toBeUndefined();
  });

  it("decrypts the connection's own credentials, bound to its tenant and connection", async () => {
    const p = await seedPortfolio();
    await setCredentials(p.tenantId, p.airbnb.connectionId, {
      refresh_token: "host-own-refresh-token",
    });
    const config = await connectionConfig(env, {
      id: p.airbnb.connectionId,
      tenantId: p.tenantId,
      platform: "airbnb",
    });
    expect(config.credentials).toMatchObject({
      refreshToken: "host-own-refresh-token",
      account: p.airbnb.connectionId,
    });
    expect(config.credentials.clientId).toBe(env.AIRBNB_CLIENT_ID);
    // The same ciphertext copied to another connection does not decrypt there.
    const row = await env.DB.prepare(
      `SELECT credentials_ciphertext AS c FROM channel_connections WHERE id = ?`,
    )
      .bind(p.airbnb.connectionId)
      .first<{ c: string }>();
    await env.DB.prepare(`UPDATE channel_connections SET credentials_ciphertext = ? WHERE id = ?`)
      .bind(row!.c, p.booking.connectionId)
      .run();
    await expect(
      connectionConfig(env, {
        id: p.booking.connectionId,
        tenantId: p.tenantId,
        platform: "booking_com",
      }),
    ).rejects.toThrow();
  });
});
