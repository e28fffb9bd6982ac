/**
 * One step of a part's schema, run once, in order. The first step of every part creates its
 * tables as the builds before versioning left them (CREATE TABLE IF NOT EXISTS, then the columns
 * added since), so a gate created by such a build adopts its tables, rows intact, as version 1.
 */
export type MigrationStep = (sql: SqlStorage) => void;

/** Where a part's schema version lives in `meta`: one key per part. */
const versionKey = (part: string) => `schema_version:${part}`;

/**
 * The gate's key/value metadata (`meta`) and the migrations runner every part uses. Each part
 * owns its tables and lists its steps; the version it reached is kept per part, so parts evolve
 * independently and a step never runs twice.
 */
export class GateStorage {
  readonly sql: SqlStorage;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    // The versions themselves live here, so this one table cannot wait for a migration.
    this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  }

  /** Bring `part`'s tables up to the last of its steps; each step and its version commit together. */
  migrate(part: string, steps: readonly MigrationStep[]): void {
    const at = this.version(part);
    if (at > steps.length) {
      // A newer build wrote these tables: running on them could lose what it stored.
      throw new Error(
        `gate storage: ${part} is at version ${at}, this build knows ${steps.length}`,
      );
    }
    for (let v = at; v < steps.length; v++) {
      this.storage.transactionSync(() => {
        steps[v]!(this.sql);
        this.set(versionKey(part), v + 1);
      });
    }
  }

  version(part: string): number {
    return this.num(versionKey(part)) ?? 0;
  }

  get(key: string): string | null {
    const row = this.sql
      .exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key)
      .toArray()[0];
    return row?.value ?? null;
  }

  /** Null deletes the key. */
  set(key: string, value: string | number | null): void {
    if (value === null) this.sql.exec(`DELETE FROM meta WHERE key = ?`, key);
    else
      this.sql.exec(
        `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        key,
        String(value),
      );
  }

  num(key: string): number | null {
    const v = this.get(key);
    return v === null ? null : Number(v);
  }

  json<T>(key: string): T | null {
    const raw = this.get(key);
    return raw ? (JSON.parse(raw) as T) : null;
  }

  /** The tenant and connection this gate serves (empty before its first call). */
  binding(): { tenantId: string; connectionId: string } {
    return { tenantId: this.get("tenant_id") ?? "", connectionId: this.get("connection_id") ?? "" };
  }

  /** One gate, one connection: work for another one is a routing bug, refused. */
  bind(tenantId: string, connectionId: string): void {
    const known = this.get("connection_id");
    if (known && known !== connectionId) {
      throw new Error(`gate for ${known} received work for ${connectionId}`);
    }
    this.set("connection_id", connectionId);
    this.set("tenant_id", tenantId);
  }
}

/** Add a column a table created by an older build lacks (SQLite has no ADD COLUMN IF NOT EXISTS). */
export function addColumn(sql: SqlStorage, table: string, column: string, type: string): void {
  const columns = sql
    .exec<{ name: string }>(`PRAGMA table_info(${table})`)
    .toArray()
    .map((c) => c.name);
  if (!columns.includes(column)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}
