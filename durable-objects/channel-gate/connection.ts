import { engineConfig } from "../../src/config";
import { raiseAlert } from "../../src/store/alerts";
import type { connectionConfig } from "../../src/services/connections";
import { findConnectionWithTimeZone, type ConnectionRow } from "../../src/store/connections";
import type { CoalesceConfig, GateSettings } from "../../src/domain/gate-settings";
import { gateSettingsFor } from "../../src/services/gate-settings";
import { errorMessage, log } from "../../src/lib/log";
import { PlatformError } from "../../src/platforms/contract";
import { expireConnectionStatement } from "../../src/store/gate";
import type { GateStorage } from "./storage";
import { TokenRefreshError } from "./tokens";

export type Connection = ConnectionRow & { timeZone: string };
export type ConnectionConfig = Awaited<ReturnType<typeof connectionConfig>>;

/**
 * The connection this gate serves, as D1 has it, with what the gate keeps about it in meta: its
 * settings as last loaded (`settings`: marks read the coalescing window without D1) and why its
 * work is held (`blocked_reason`).
 */
export class GateConnection {
  constructor(
    private readonly storage: GateStorage,
    private readonly env: () => Env,
    private readonly clock: () => number,
  ) {}

  /** The connection's row, or null when it is gone. */
  find(connectionId: string): Promise<Connection | null> {
    return findConnectionWithTimeZone(this.env().DB, connectionId);
  }

  /** Bind the gate and load the connection and its settings; null when not the tenant's. */
  async load(
    tenantId: string,
    connectionId: string,
  ): Promise<{ connection: Connection; settings: GateSettings } | null> {
    this.storage.bind(tenantId, connectionId);
    const connection = await this.find(connectionId);
    if (!connection || connection.tenantId !== tenantId) return null;
    return { connection, settings: this.settingsOf(connection) };
  }

  /** The connection's settings, remembered for calls that do not read D1. */
  settingsOf(connection: Connection): GateSettings {
    const env = this.env();
    const s = gateSettingsFor(
      connection.platform,
      connection.gateSettings,
      engineConfig(env).coalesce,
    );
    this.storage.set("settings", JSON.stringify(s));
    return s;
  }

  /** The connection's settings as the last flush or call loaded them; null before the first. */
  cachedSettings(): GateSettings | null {
    return this.storage.json<GateSettings>("settings");
  }

  coalesce(): CoalesceConfig {
    return this.cachedSettings()?.coalesce ?? engineConfig(this.env()).coalesce;
  }

  block(reason: string): void {
    if (this.storage.get("blocked_reason") !== reason) log("warn", "gate.blocked", { reason });
    this.storage.set("blocked_reason", reason);
  }

  unblock(): void {
    this.storage.set("blocked_reason", null);
  }

  /**
   * The platform refused the connection's credentials (a refresh failed, or a call was refused
   * again after one refresh): the connection is `expired` until someone re-authorises it.
   */
  async credentialsRefused(connection: Connection, err: PlatformError): Promise<void> {
    const now = this.clock();
    this.block(`credentials refused: ${err.message}`);
    const db = this.env().DB;
    try {
      await db.batch([expireConnectionStatement(db, connection.id, err.message, now)]);
      await raiseAlert(
        db,
        {
          tenantId: connection.tenantId,
          kind: "connection_expired",
          severity: "critical",
          message: `${connection.platform} refused the credentials of connection ${connection.id}; it is marked expired and needs re-authorisation (pending changes are kept)`,
          details: { connectionId: connection.id, error: err.message },
          dedupeKey: `connection_expired:${connection.id}`,
        },
        now,
      );
    } catch (e) {
      log("error", "gate.expire_failed", { error: errorMessage(e) });
    }
  }
}

/**
 * The credentials themselves were refused: the token endpoint said no, or a call was refused
 * with 401 again after a fresh token. A 403 (no access to this hotel or listing) is not that.
 */
export function credentialsRefusal(err: unknown): err is PlatformError {
  return (
    err instanceof PlatformError &&
    err.kind === "auth" &&
    (err instanceof TokenRefreshError || err.status === 401)
  );
}
