import { accountRefreshToken, putProperty } from "../kit/store/accounts";
import { upsertUnit } from "../kit/store/calendar";
import type { UnitPatch, UnitRow } from "../kit/store/types";

/** The Airbnb simulator's own state (PlatformState methods): listings and their hosts. */

export type PutListingResult = { ok: true; unit: UnitRow; account: string } | { ok: false };

/**
 * Create or update a listing (its own property). Creating takes `account` or the default; naming
 * another account for an existing listing transfers it to that host.
 */
export function putListing(
  sql: SqlStorage,
  id: string,
  patch: UnitPatch,
  account: string | undefined,
  configured: string | undefined,
): PutListingResult {
  if (account && !accountRefreshToken(sql, account, configured)) return { ok: false };
  const unit = upsertUnit(sql, id, id, patch);
  const record = putProperty(sql, id, account ? { account } : {});
  return { ok: true, unit, account: record.account };
}
