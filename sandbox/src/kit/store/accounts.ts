import { randomHex } from "../random";
import type { UnitRow } from "./types";

/**
 * Accounts and who owns what. An account (a host, a property owner) owns properties (a listing
 * is its own property); a call made with one account's token for another account's property is
 * refused. A hotel may instead authorise the one machine account (or not). Every account has
 * refresh tokens; the configured one (each simulator's `*_REFRESH_TOKEN`) belongs to
 * DEFAULT_ACCOUNT, which always exists.
 */

export const DEFAULT_ACCOUNT = "default";

export interface PropertyRecord {
  property_id: string;
  account: string;
  authorised: boolean;
}

/** The owner and authorisation of a property; null when the platform does not know it at all. */
export function propertyRecord(sql: SqlStorage, propertyId: string): PropertyRecord | null {
  const row = sql
    .exec<{ account: string; authorised: number }>(
      "SELECT account, authorised FROM properties WHERE property_id = ?",
      propertyId,
    )
    .toArray()[0];
  if (row) {
    return { property_id: propertyId, account: row.account, authorised: row.authorised === 1 };
  }
  // Units created before any record: the default account's, authorised (see schema.ts).
  const unit = sql.exec("SELECT 1 FROM units WHERE property_id = ? LIMIT 1", propertyId).toArray();
  return unit.length
    ? { property_id: propertyId, account: DEFAULT_ACCOUNT, authorised: true }
    : null;
}

/** Create or change a property's record; what the patch leaves out stays (or takes the default). */
export function putProperty(
  sql: SqlStorage,
  propertyId: string,
  patch: { account?: string; authorised?: boolean },
): PropertyRecord {
  const current = propertyRecord(sql, propertyId);
  const account = patch.account ?? current?.account ?? DEFAULT_ACCOUNT;
  const authorised = patch.authorised ?? current?.authorised ?? true;
  sql.exec(
    `INSERT INTO properties (property_id, account, authorised) VALUES (?, ?, ?)
     ON CONFLICT (property_id) DO UPDATE SET
       account = excluded.account, authorised = excluded.authorised`,
    propertyId,
    account,
    authorised ? 1 : 0,
  );
  return { property_id: propertyId, account, authorised };
}

export type Access = "ok" | "not_found" | "forbidden";

/** May `account` read and write this property? */
export function propertyAccess(sql: SqlStorage, propertyId: string, account: string): Access {
  const record = propertyRecord(sql, propertyId);
  if (!record) return "not_found";
  return record.account === account ? "ok" : "forbidden";
}

/** Units of the properties an account owns, optionally only those of the given properties. */
export function ownedUnits(
  sql: SqlStorage,
  account: string,
  propertyIds: readonly string[] | null = null,
): UnitRow[] {
  const rows = sql
    .exec(
      `SELECT u.* FROM units u LEFT JOIN properties p ON p.property_id = u.property_id
       WHERE COALESCE(p.account, ?) = ? ORDER BY u.property_id, u.unit_id`,
      DEFAULT_ACCOUNT,
      account,
    )
    .toArray() as unknown as UnitRow[];
  return propertyIds ? rows.filter((u) => propertyIds.includes(u.property_id)) : rows;
}

// ---- accounts and their refresh tokens ----

/** The account a refresh token belongs to, or null when it is unknown. */
export function accountForRefreshToken(
  sql: SqlStorage,
  refreshToken: string,
  configured: string | undefined,
): string | null {
  if (configured && refreshToken === configured) return DEFAULT_ACCOUNT;
  const row = sql
    .exec<{ account: string }>("SELECT account FROM refresh_tokens WHERE token = ?", refreshToken)
    .toArray()[0];
  return row?.account ?? null;
}

/** The account's (first) refresh token; null when the account does not exist. */
export function accountRefreshToken(
  sql: SqlStorage,
  account: string,
  configured: string | undefined,
): string | null {
  if (account === DEFAULT_ACCOUNT) return configured ?? null;
  const row = sql
    .exec<{ token: string }>(
      "SELECT token FROM refresh_tokens WHERE account = ? ORDER BY rowid LIMIT 1",
      account,
    )
    .toArray()[0];
  return row?.token ?? null;
}

export function storeRefreshToken(sql: SqlStorage, account: string, token: string): void {
  sql.exec("INSERT INTO refresh_tokens (token, account) VALUES (?, ?)", token, account);
}

/** Create an account (a random name when none is given); an existing one keeps its token. */
export function createAccount(
  sql: SqlStorage,
  name: string | null,
  configured: string | undefined,
): { account: string; refresh_token: string; created: boolean } {
  const account = name ?? `acct_${randomHex(8)}`;
  const existing = accountRefreshToken(sql, account, configured);
  if (existing) return { account, refresh_token: existing, created: false };
  const token = randomHex(32);
  storeRefreshToken(sql, account, token);
  return { account, refresh_token: token, created: true };
}
