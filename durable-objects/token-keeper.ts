import {
  decryptCredentials,
  encryptCredentials,
  type CredentialsBinding,
} from "../src/lib/credentials-crypto";
import { errorMessage, log } from "../src/lib/log";
import {
  MINT_BUDGET_WINDOW_MS,
  REFRESH_MARGIN_MS,
  checkMintBudget,
  tokenKeyOf,
  type TokenGrant,
  type TokenKey,
} from "../src/platforms/kit/token-cache";
import { PlatformError, type PlatformErrorKind } from "../src/platforms/contract";

/**
 * Longest one mint may keep its waiters (a gate's call waits at most 2 s for its limiter, and its
 * request times out after 10 s): a gate that never answers must not hold every gate of the account.
 */
const MINT_TIMEOUT_MS = 30_000;

/** A failure as data: it crosses RPC, which keeps only an error's message. */
export interface MintFailure {
  kind: PlatformErrorKind;
  message: string;
  status?: number;
  retryAfterSeconds?: number;
}

/**
 * How one attempt to mint ended. `sent` says whether its request reached the token endpoint:
 * only such a mint spends the budget. One the caller's gate held (rate limit, open circuit) did not.
 */
export type MintOutcome =
  { ok: true; grant: TokenGrant } | { ok: false; sent: boolean; error: MintFailure };

export interface MintRequest {
  key: TokenKey;
  /** The platform's mint budget per rolling hour for this key (none when absent). */
  maxMintsPerHour?: number;
}

export type TokenAnswer =
  { ok: true; token: string; refreshAt: number } | { ok: false; error: MintFailure };

/** A mint that did not answer in time: its request may have left, so it counts. */
const unanswered: MintOutcome = {
  ok: false,
  sent: true,
  error: { kind: "transient", message: `token mint did not answer within ${MINT_TIMEOUT_MS} ms` },
};

interface Settled {
  answer: TokenAnswer;
  /** Nothing was asked of the platform: a caller waiting on this mint may try its own. */
  held: boolean;
}

interface Stored {
  value: Record<string, string>;
  refreshAt: number | null;
  /** What the row holds, so a delete can be made conditional on it still being this token. */
  ciphertext?: string;
}

/**
 * One object's access and refresh tokens, in its SQLite storage, AES-GCM encrypted under
 * CREDENTIALS_KEYS and bound to `binding` (a row copied elsewhere does not decrypt). Both the
 * ChannelGate (a connection's own credentials) and the TokenBroker (an account many connections
 * share) keep tokens with it, so both follow the same rules:
 *
 * - Single flight: callers that need a token while one is being minted await that mint. The
 *   caller brings the mint (`mint`, possibly an RPC stub back into its gate); if its gate held
 *   it, a waiting caller tries with its own rather than inherit another connection's hold.
 * - The mint budget counts mints whose request left (`token_mints`), and refuses beyond it with
 *   rate_limited and a retry-after, before anything is sent.
 *
 * Tokens survive eviction. A stored refresh token remembers the configured one it descends from,
 * so an operator re-authorising (new credentials) takes over again.
 */
export class TokenKeeper {
  private readonly inflight = new Map<string, Promise<Settled>>();
  private writes = 0;
  /** Without CREDENTIALS_KEYS tokens stay in this object's memory only: never plaintext at rest. */
  private readonly memory = new Map<string, Stored>();
  private warned = false;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Pick<Env, "CREDENTIALS_KEYS">,
    private readonly binding: () => CredentialsBinding,
    private readonly clock: () => number,
  ) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS tokens (
        name TEXT PRIMARY KEY, ciphertext TEXT NOT NULL, refresh_at INTEGER, updated_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS token_mints (at INTEGER NOT NULL);
    `);
  }

  /** A valid access token: the stored one, the one being minted, or one `mint` gets now. */
  async accessToken(request: MintRequest, mint: () => Promise<MintOutcome>): Promise<TokenAnswer> {
    const name = `access:${tokenKeyOf(request.key)}`;
    for (;;) {
      const pending = this.inflight.get(name);
      if (pending) {
        const settled = await pending;
        if (!settled.held) return settled.answer;
        continue;
      }
      const writesBefore = this.writes;
      const stored = await this.read(name);
      const now = this.clock();
      if (stored?.value.token && stored.refreshAt !== null && now < stored.refreshAt) {
        return { ok: true, token: stored.value.token, refreshAt: stored.refreshAt };
      }
      // A mint finished or began while we were decrypting: look again instead of minting twice.
      if (this.writes !== writesBefore || this.inflight.has(name)) continue;
      const refusal = this.budgetRefusal(request, now);
      if (refusal) return { ok: false, error: refusal };
      const run = this.mint(name, mint).finally(() => this.inflight.delete(name));
      this.inflight.set(name, run);
      return (await run).answer;
    }
  }

  /** Forget `token` if it is still the current one (another caller may have replaced it). */
  async invalidate(key: TokenKey, token: string): Promise<void> {
    const name = `access:${tokenKeyOf(key)}`;
    const stored = await this.read(name);
    if (stored?.value.token !== token) return;
    if (!this.env.CREDENTIALS_KEYS) {
      if (this.memory.get(name) === stored) this.memory.delete(name);
      return;
    }
    // Only that row: a token minted while we were decrypting is not the refused one.
    this.sql.exec(`DELETE FROM tokens WHERE name = ? AND ciphertext = ?`, name, stored.ciphertext);
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

  /** When the stored access token is due for refresh (null when there is none). */
  refreshDueAt(): number | null {
    if (!this.env.CREDENTIALS_KEYS) {
      const due = [...this.memory]
        .filter(([name, s]) => name.startsWith("access:") && s.refreshAt !== null)
        .map(([, s]) => s.refreshAt as number);
      return due.length > 0 ? Math.min(...due) : null;
    }
    return this.sql
      .exec<{ refresh_at: number | null }>(
        `SELECT MIN(refresh_at) AS refresh_at FROM tokens WHERE name LIKE 'access:%'`,
      )
      .one().refresh_at;
  }

  private budgetRefusal(request: MintRequest, now: number): MintFailure | null {
    this.sql.exec(`DELETE FROM token_mints WHERE at <= ?`, now - MINT_BUDGET_WINDOW_MS);
    const mintedAt = this.sql
      .exec<{ at: number }>(`SELECT at FROM token_mints`)
      .toArray()
      .map((r) => r.at);
    try {
      checkMintBudget({ ...request, platform: request.key.platform }, mintedAt, now);
      return null;
    } catch (err) {
      return failureOf(err);
    }
  }

  private async mint(name: string, mint: () => Promise<MintOutcome>): Promise<Settled> {
    const requestedAt = this.clock();
    const outcome = await outcomeOf(mint);
    if (!outcome.ok) {
      if (outcome.sent) this.recordMint();
      return { answer: { ok: false, error: outcome.error }, held: !outcome.sent };
    }
    this.recordMint();
    // Lifetime counts from before the request: the platform's clock for the token started later.
    const { accessToken, expiresInSeconds } = outcome.grant;
    const refreshAt = requestedAt + Math.max(0, expiresInSeconds * 1000 - REFRESH_MARGIN_MS);
    await this.write(name, { token: accessToken }, refreshAt);
    return { answer: { ok: true, token: accessToken, refreshAt }, held: false };
  }

  /** Recorded when the mint ended: the platform counted it no later than that. */
  private recordMint(): void {
    this.sql.exec(`INSERT INTO token_mints (at) VALUES (?)`, this.clock());
  }

  private async read(name: string): Promise<Stored | null> {
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
      return { value, refreshAt: row.refresh_at, ciphertext: row.ciphertext };
    } catch (err) {
      // A key rotated away or a corrupt row: mint a new token rather than fail every call.
      log("warn", "tokens.unreadable", { error: errorMessage(err) });
      this.sql.exec(`DELETE FROM tokens WHERE name = ? AND ciphertext = ?`, name, row.ciphertext);
      return null;
    }
  }

  private async write(
    name: string,
    value: Record<string, string>,
    refreshAt: number | null,
  ): Promise<void> {
    if (!this.env.CREDENTIALS_KEYS) {
      if (!this.warned) log("warn", "tokens.in_memory", { reason: "CREDENTIALS_KEYS not set" });
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

/** What `mint` answered, or `unanswered` once it has kept its waiters too long. */
async function outcomeOf(mint: () => Promise<MintOutcome>): Promise<MintOutcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<MintOutcome>((resolve) => {
    timer = setTimeout(() => resolve(unanswered), MINT_TIMEOUT_MS);
  });
  try {
    return await Promise.race([mint(), timeout]);
  } catch (err) {
    // The caller's gate could not be reached mid-mint: its request may have left, so count it.
    return { ok: false, sent: true, error: failureOf(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** A thrown error as data (a PlatformError keeps its kind, status and retry-after). */
export function failureOf(err: unknown): MintFailure {
  if (!(err instanceof PlatformError)) return { kind: "transient", message: errorMessage(err) };
  const prefix = `${err.platform}: `;
  return {
    kind: err.kind,
    message: err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message,
    ...(err.status !== undefined ? { status: err.status } : {}),
    ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
  };
}

/** The PlatformError a failure describes. */
export function errorOf(platform: PlatformError["platform"], f: MintFailure): PlatformError {
  return new PlatformError(platform, f.kind, f.message, f.status, f.retryAfterSeconds);
}
