import { decryptCredentials, encryptCredentials } from "../src/lib/credentials-crypto";
import { errorMessage, log } from "../src/lib/log";
import { PlatformError } from "../src/platforms/types";
import {
  REFRESH_MARGIN_MS,
  checkMintBudget,
  tokenKeyOf,
  type TokenKey,
  type TokenSource,
  type TokenStore,
} from "../src/platforms/token-cache";

/**
 * A connection's access and refresh tokens, in its ChannelGate's SQLite storage, AES-GCM
 * encrypted under CREDENTIALS_KEYS and bound to the tenant and connection (a row copied elsewhere
 * does not decrypt). Every call of the connection runs in this one object, so one in-flight mint
 * promise is enough for "one refresh at a time": concurrent callers await it instead of minting
 * their own (Airbnb rotates refresh tokens; two refreshes racing would burn one).
 *
 * Tokens survive eviction and restarts. A stored refresh token remembers the configured one it
 * descends from, so an operator re-authorising (new credentials) takes over again.
 */
export class GateTokenStore implements TokenStore {
  private readonly inflight = new Map<string, Promise<string>>();
  private writes = 0;
  /** Without CREDENTIALS_KEYS tokens stay in this object's memory only: never plaintext at rest. */
  private readonly memory = new Map<
    string,
    { value: Record<string, string>; refreshAt: number | null }
  >();
  private warned = false;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Pick<Env, "CREDENTIALS_KEYS">,
    private readonly binding: () => { tenantId: string; connectionId: string },
    private readonly clock: () => number,
  ) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS tokens (
        name TEXT PRIMARY KEY, ciphertext TEXT NOT NULL, refresh_at INTEGER, updated_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS token_mints (at INTEGER NOT NULL);
    `);
  }

  async getAccessToken(source: TokenSource): Promise<string> {
    const name = `access:${tokenKeyOf(source)}`;
    for (;;) {
      const pending = this.inflight.get(name);
      if (pending) return pending;
      const writesBefore = this.writes;
      const stored = await this.read(name);
      if (stored?.value.token && stored.refreshAt !== null && this.clock() < stored.refreshAt) {
        return stored.value.token;
      }
      // A mint finished while we were decrypting: read again instead of minting a second time.
      if (this.writes === writesBefore || this.inflight.has(name)) break;
    }
    let mint = this.inflight.get(name);
    if (!mint) {
      mint = this.mint(name, source).finally(() => this.inflight.delete(name));
      this.inflight.set(name, mint);
    }
    return mint;
  }

  async invalidate(key: TokenKey, token: string): Promise<void> {
    const name = `access:${tokenKeyOf(key)}`;
    const stored = await this.read(name);
    if (stored?.value.token !== token) return;
    this.memory.delete(name);
    this.sql.exec(`DELETE FROM tokens WHERE name = ?`, name);
  }

  async currentRefreshToken(key: TokenKey, configured: string): Promise<string> {
    const stored = await this.read(`refresh:${tokenKeyOf(key)}`);
    return stored?.value.configured === configured && stored.value.token
      ? stored.value.token
      : configured;
  }

  async rememberRefreshToken(key: TokenKey, configured: string, latest: string): Promise<void> {
    await this.write(`refresh:${tokenKeyOf(key)}`, { token: latest, configured }, null);
  }

  /** When the stored access token is due for refresh (null when none), for the status route. */
  refreshDueAt(): number | null {
    const row = this.sql
      .exec<{ refresh_at: number | null }>(
        `SELECT MIN(refresh_at) AS refresh_at FROM tokens WHERE name LIKE 'access:%'`,
      )
      .one();
    return row.refresh_at;
  }

  /** Drop every stored token (the connection's credentials changed). */
  clear(): void {
    this.memory.clear();
    this.sql.exec(`DELETE FROM tokens`);
  }

  private async mint(name: string, source: TokenSource): Promise<string> {
    const now = this.clock();
    this.sql.exec(`DELETE FROM token_mints WHERE at <= ?`, now - 3_600_000);
    const mintedAt = this.sql
      .exec<{ at: number }>(`SELECT at FROM token_mints`)
      .toArray()
      .map((r) => r.at);
    checkMintBudget(source, mintedAt, now);
    this.sql.exec(`INSERT INTO token_mints (at) VALUES (?)`, now);
    // Lifetime counts from before the request: the platform's clock for the token started later.
    let grant;
    try {
      grant = await source.mint();
    } catch (err) {
      if (err instanceof PlatformError && err.kind === "auth") {
        throw new TokenRefreshError(err.platform, err.message, err.status);
      }
      throw err;
    }
    const refreshAt = now + Math.max(0, grant.expiresInSeconds * 1000 - REFRESH_MARGIN_MS);
    await this.write(name, { token: grant.accessToken }, refreshAt);
    return grant.accessToken;
  }

  private async read(
    name: string,
  ): Promise<{ value: Record<string, string>; refreshAt: number | null } | null> {
    if (!this.env.CREDENTIALS_KEYS) return this.memory.get(name) ?? null;
    const row = this.sql
      .exec<{ ciphertext: string; refresh_at: number | null }>(
        `SELECT ciphertext, refresh_at FROM tokens WHERE name = ?`,
        name,
      )
      .toArray()[0];
    if (!row) return null;
    try {
      const value = await decryptCredentials(this.env, this.binding(), row.ciphertext);
      return { value, refreshAt: row.refresh_at };
    } catch (err) {
      // A key rotated away or a corrupt row: mint a new token rather than fail every call.
      log("warn", "gate.token_unreadable", { error: errorMessage(err) });
      this.sql.exec(`DELETE FROM tokens WHERE name = ?`, name);
      return null;
    }
  }

  private async write(
    name: string,
    value: Record<string, string>,
    refreshAt: number | null,
  ): Promise<void> {
    if (!this.env.CREDENTIALS_KEYS) {
      if (!this.warned)
        log("warn", "gate.tokens_in_memory", { reason: "CREDENTIALS_KEYS not set" });
      this.warned = true;
      this.memory.set(name, { value, refreshAt });
      this.writes += 1;
      return;
    }
    const { ciphertext } = await encryptCredentials(this.env, this.binding(), value);
    this.sql.exec(
      `INSERT INTO tokens (name, ciphertext, refresh_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET ciphertext = excluded.ciphertext,
         refresh_at = excluded.refresh_at, updated_at = excluded.updated_at`,
      name,
      ciphertext,
      refreshAt,
      this.clock(),
    );
    this.writes += 1;
  }
}

/** The platform refused to issue a token: the connection's credentials need attention. */
export class TokenRefreshError extends PlatformError {
  constructor(platform: PlatformError["platform"], message: string, status?: number) {
    super(platform, "auth", `token refresh refused: ${message}`, status);
    this.name = "TokenRefreshError";
  }
}
