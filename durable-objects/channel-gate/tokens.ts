import { errorMessage, log } from "../../src/lib/log";
import {
  isSharedToken,
  tokenKeyFields,
  tokenKeyOf,
  type TokenKey,
  type TokenSource,
  type TokenStore,
} from "../../src/platforms/kit/token-cache";
import { PlatformError } from "../../src/platforms/contract";
import { GateHeldError } from "./held";
import type { GateStorage, MigrationStep } from "./storage";
import { tokenBroker } from "../token-broker";
import {
  TokenKeeper,
  errorOf,
  failureOf,
  type MintOutcome,
  type MintRequest,
  type TokenAnswer,
} from "../token-keeper";

const STEPS: readonly MigrationStep[] = [
  (sql) =>
    sql.exec(
      `CREATE TABLE IF NOT EXISTS token_broker (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL)`,
    ),
];

/**
 * The tokens a ChannelGate's calls use.
 *
 * - **Credentials of its own** (the key names an account): the tokens live here, in the gate's
 *   SQLite (TokenKeeper), encrypted and bound to the tenant and connection.
 * - **An account several connections share** (Booking.com's machine account, the app-level host
 *   credentials): the tokens live in that account's TokenBroker, so every connection spends the
 *   one mint budget, awaits the one mint in flight and sends the latest rotated refresh token.
 *   The gate keeps a copy in memory until it is due: the broker is one object for the whole
 *   account, so it hears from each gate about once per token lifetime, not once per call.
 *
 * Either way the mint request leaves from the gate whose call needs the token, through that
 * gate's fetch: the broker calls back into it (`mint.run`), and the adapter's token request and
 * its parsing run here, with this connection's credentials, which never reach the broker. So the
 * limits split as the platform's do. The mint is one call of one connection: it passes that
 * connection's breaker (held while its platform is failing) and spends one call of its limiter,
 * like its other calls, which is conservative where a token endpoint is not counted per
 * connection. What is the account's, the mint budget (30 per hour at Booking.com), is counted by
 * the broker, which a per-connection limiter could never see. A mint this gate held was never
 * sent: it spends no budget, and another gate waiting for the same token mints instead.
 */
export class GateTokenStore implements TokenStore {
  private readonly own: TokenKeeper;
  /** Broker tokens this gate used, in memory only, until they are due. */
  private readonly copies = new Map<string, { token: string; refreshAt: number }>();
  /** The broker this gate's connection takes its tokens from (null: its own credentials). */
  private brokerName: string | null;

  private readonly sql: SqlStorage;

  constructor(
    storage: GateStorage,
    private readonly env: Pick<Env, "CREDENTIALS_KEYS" | "TOKEN_BROKER">,
    private readonly clock: () => number,
  ) {
    // TokenKeeper creates its own tables (`tokens`, `token_mints`); `token_broker` is this part's.
    storage.migrate("tokens", STEPS);
    const sql = (this.sql = storage.sql);
    this.own = new TokenKeeper(sql, env, () => storage.binding(), clock);
    this.brokerName =
      sql.exec<{ name: string }>(`SELECT name FROM token_broker`).toArray()[0]?.name ?? null;
  }

  async getAccessToken(source: TokenSource): Promise<string> {
    const request: MintRequest = {
      key: tokenKeyFields(source),
      ...(source.maxMintsPerHour !== undefined ? { maxMintsPerHour: source.maxMintsPerHour } : {}),
    };
    const mint = mintThroughGate(source);
    if (!isSharedToken(source)) {
      this.useBroker(null);
      return mint.settle(await this.own.accessToken(request, mint.run));
    }
    const name = tokenKeyOf(source);
    this.useBroker(name);
    const copy = this.copies.get(name);
    if (copy && this.clock() < copy.refreshAt) return copy.token;
    const answer = await this.brokerCall<TokenAnswer>(source, (b) =>
      b.accessToken(request, mint.run),
    );
    if (answer.ok) this.copies.set(name, { token: answer.token, refreshAt: answer.refreshAt });
    return mint.settle(answer);
  }

  /** A 401 with a shared token: the broker drops it only if it is still current, so one refresh serves all. */
  async invalidate(key: TokenKey, token: string): Promise<void> {
    if (!isSharedToken(key)) return this.own.invalidate(key, token);
    const name = tokenKeyOf(key);
    if (this.copies.get(name)?.token === token) this.copies.delete(name);
    await this.brokerCall(key, (b) => b.invalidate(tokenKeyFields(key), token));
  }

  async currentRefreshToken(key: TokenKey, configured: string): Promise<string> {
    if (!isSharedToken(key)) return this.own.currentRefreshToken(key, configured);
    return this.brokerCall(key, (b) => b.currentRefreshToken(tokenKeyFields(key), configured));
  }

  async rememberRefreshToken(key: TokenKey, configured: string, latest: string): Promise<void> {
    if (!isSharedToken(key)) return this.own.rememberRefreshToken(key, configured, latest);
    await this.brokerCall(key, (b) =>
      b.rememberRefreshToken(tokenKeyFields(key), configured, latest),
    );
  }

  /**
   * When the token this connection uses is due for refresh (null when it has none yet), for the
   * status route: a shared token's is the broker's, whichever gate minted it.
   */
  async refreshDueAt(): Promise<number | null> {
    const name = this.brokerName;
    if (name === null) return this.own.refreshDueAt();
    try {
      return await this.env.TOKEN_BROKER.getByName(name).refreshDueAt();
    } catch (err) {
      log("warn", "gate.token_broker_unreachable", { error: errorMessage(err) });
      return this.copies.get(name)?.refreshAt ?? null;
    }
  }

  private useBroker(name: string | null): void {
    if (name === this.brokerName) return;
    this.brokerName = name;
    if (name === null) this.sql.exec(`DELETE FROM token_broker`);
    else this.sql.exec(`INSERT OR REPLACE INTO token_broker (id, name) VALUES (1, ?)`, name);
  }

  /** A broker that cannot be reached is a transient failure of the call that needed it. */
  private async brokerCall<T>(
    key: TokenKey,
    call: (broker: ReturnType<typeof tokenBroker>) => PromiseLike<T>,
  ): Promise<T> {
    try {
      return await call(tokenBroker(this.env, key));
    } catch (err) {
      if (err instanceof PlatformError) throw err;
      throw new PlatformError(key.platform, "transient", `token broker: ${errorMessage(err)}`);
    }
  }
}

/**
 * One mint attempt through this gate's fetch, reported as data (it may run as an RPC callback
 * from the broker). The error itself stays here, so this gate rethrows exactly what it met (a
 * GateHeldError stays one); a gate that awaited another gate's mint gets the same failure rebuilt.
 */
function mintThroughGate(source: TokenSource): {
  run: () => Promise<MintOutcome>;
  settle: (answer: TokenAnswer) => string;
} {
  let thrown: { error: unknown } | null = null;
  const run = async (): Promise<MintOutcome> => {
    try {
      const { accessToken, expiresInSeconds } = await source.mint();
      return { ok: true, grant: { accessToken, expiresInSeconds } };
    } catch (err) {
      thrown = { error: err };
      return { ok: false, sent: !(err instanceof GateHeldError), error: failureOf(err) };
    }
  };
  const settle = (answer: TokenAnswer): string => {
    if (answer.ok) return answer.token;
    throw refusalOf(thrown ? thrown.error : errorOf(source.platform, answer.error));
  };
  return { run, settle };
}

/** The token endpoint said no: the connection's credentials need attention. */
function refusalOf(err: unknown): unknown {
  if (err instanceof PlatformError && err.kind === "auth" && !(err instanceof TokenRefreshError)) {
    return new TokenRefreshError(err.platform, err.message, err.status);
  }
  return err;
}

/** The platform refused to issue a token: the connection's credentials need attention. */
export class TokenRefreshError extends PlatformError {
  constructor(platform: PlatformError["platform"], message: string, status?: number) {
    super(platform, "auth", `token refresh refused: ${message}`, status);
    this.name = "TokenRefreshError";
  }
}
