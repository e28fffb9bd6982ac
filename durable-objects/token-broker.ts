import { DurableObject } from "cloudflare:workers";
import { tokenKeyOf, type TokenKey } from "../src/platforms/kit/token-cache";
import { TokenKeeper, type MintOutcome, type MintRequest, type TokenAnswer } from "./token-keeper";

/**
 * What the broker's ciphertexts are bound to (the AES-GCM additional data), with the token key as
 * the "connection": an account has no tenant, and no tenant id or connection id takes this form,
 * so a broker row copied into a gate (or another broker) does not decrypt.
 */
const BINDING_TENANT = "token-broker";

/**
 * The tokens of one platform account that several connections share: Booking.com's machine
 * account, or the app-level host credentials (AIRBNB_REFRESH_TOKEN, BEDS24_REFRESH_TOKEN). One
 * object per token key (`tokenBroker`), so the account's mint budget, its single mint in flight
 * and its latest rotated refresh token are exact without coordination, however many connections
 * (gates) use it. A connection with credentials of its own never comes here.
 *
 * The broker never holds credentials and never calls the platform itself: the gate asking for a
 * token hands in its mint, which runs back in that gate, through its limiter and breaker
 * (channel-gate/tokens.ts says why). What the broker decides is whether a mint happens at all.
 */
export class TokenBroker extends DurableObject<Env> {
  /** Injected clock: tests replace it. */
  clock: () => number = () => Date.now();
  readonly tokens: TokenKeeper;
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS broker (id INTEGER PRIMARY KEY CHECK (id = 1),
      token_key TEXT NOT NULL)`);
    this.tokens = new TokenKeeper(
      this.sql,
      env,
      () => ({ tenantId: BINDING_TENANT, connectionId: this.tokenKey() ?? "" }),
      () => this.clock(),
    );
  }

  /** A valid access token, or `mint` (the caller's) runs once for every caller waiting now. */
  async accessToken(request: MintRequest, mint: () => Promise<MintOutcome>): Promise<TokenAnswer> {
    this.bind(request.key);
    return this.tokens.accessToken(request, mint);
  }

  /** A call was refused with `token`: drop it if it is still the current one. */
  async invalidate(key: TokenKey, token: string): Promise<void> {
    this.bind(key);
    await this.tokens.invalidate(key, token);
  }

  async currentRefreshToken(key: TokenKey, configured: string): Promise<string> {
    this.bind(key);
    return this.tokens.currentRefreshToken(key, configured);
  }

  async rememberRefreshToken(key: TokenKey, configured: string, latest: string): Promise<void> {
    this.bind(key);
    await this.tokens.rememberRefreshToken(key, configured, latest);
  }

  async refreshDueAt(): Promise<number | null> {
    return this.tokens.refreshDueAt();
  }

  private tokenKey(): string | null {
    return (
      this.sql.exec<{ token_key: string }>(`SELECT token_key FROM broker`).toArray()[0]
        ?.token_key ?? null
    );
  }

  /** A broker serves the one key it is named by. */
  private bind(key: TokenKey): void {
    const name = tokenKeyOf(key);
    const known = this.tokenKey();
    if (known === null) this.sql.exec(`INSERT INTO broker (id, token_key) VALUES (1, ?)`, name);
    else if (known !== name) throw new Error(`token broker for ${known} asked for ${name}`);
  }
}

/** The broker of the account a token key names. */
export function tokenBroker(
  env: Pick<Env, "TOKEN_BROKER">,
  key: TokenKey,
): DurableObjectStub<TokenBroker> {
  return env.TOKEN_BROKER.getByName(tokenKeyOf(key));
}
