import { randomHex } from "../kit/random";
import {
  accountForRefreshToken,
  ownedUnits,
  propertyRecord,
  putProperty,
  storeRefreshToken,
} from "../kit/store/accounts";
import { upsertUnit } from "../kit/store/calendar";
import { injectedFault, readFaults } from "../kit/store/faults";
import { storeToken, tokenClient } from "../kit/store/tokens";
import type { GateDecision, UnitPatch, UnitRow } from "../kit/store/types";
import { ACCESS_TOKEN_TTL_S, CREDIT_LIMIT, CREDIT_WINDOW_MS } from "./profile";

/**
 * The Beds24 simulator's own state (PlatformState methods): accounts, tokens and credits
 * (PROTOCOLS.md, "Beds24 (API v2, JSON)"), properties and rooms.
 *
 * - An invite code is exchanged once for an access token (24 h) and a refresh token; the refresh
 *   token mints new access tokens. Every token belongs to an account (Beds24's owner).
 * - Credits: 100 per rolling 5 minutes per account. Credits are kept in tenths so that fractional
 *   costs add up exactly.
 *
 * The sandbox's cost rule (Beds24 publishes that costs vary and may be fractional, not a table):
 * every inventory call costs 1 credit, and `POST /inventory/rooms/calendar` 0.1 more per room
 * item in its body (one room: 1.1, ten rooms: 2). Authentication calls cost nothing but report the
 * account's credits. A refused call (429, 401, fault) costs nothing.
 *
 * `x-five-min-limit-resets-in` is the seconds until the oldest credits spent in the window come
 * back, i.e. the first moment the remaining figure grows (300 when nothing is spent).
 */

export interface Credits {
  /** What this answer charged. */
  cost: number;
  remaining: number;
  resets_in: number;
}

export interface CreditView extends Credits {
  account: string;
  limit: number;
  spent: number;
}

/** Credits of an account that nobody can name (a bad token): the full allowance, nothing spent. */
export const ANONYMOUS_CREDITS: Credits = { cost: 0, remaining: CREDIT_LIMIT, resets_in: 0 };

function spends(
  sql: SqlStorage,
  account: string,
  now: number,
): Array<{ at: number; tenths: number }> {
  sql.exec("DELETE FROM credits WHERE at <= ?", now - CREDIT_WINDOW_MS);
  return sql
    .exec<{ at: number; tenths: number }>(
      "SELECT at, tenths FROM credits WHERE account = ? ORDER BY at ASC",
      account,
    )
    .toArray();
}

export function creditView(sql: SqlStorage, account: string, now: number, cost = 0): CreditView {
  const rows = spends(sql, account, now);
  const spentTenths = rows.reduce((t, r) => t + r.tenths, 0);
  const oldest = rows[0];
  return {
    account,
    limit: CREDIT_LIMIT,
    spent: spentTenths / 10,
    cost: cost / 10,
    remaining: Math.max(0, CREDIT_LIMIT * 10 - spentTenths) / 10,
    resets_in: oldest
      ? Math.max(1, Math.ceil((oldest.at + CREDIT_WINDOW_MS - now) / 1000))
      : CREDIT_WINDOW_MS / 1000,
  };
}

/** Seconds until `tenths` credits fit again (the oldest spends age out one by one). */
function secondsUntilFits(sql: SqlStorage, account: string, tenths: number, now: number): number {
  const rows = spends(sql, account, now);
  let spent = rows.reduce((t, r) => t + r.tenths, 0);
  for (const r of rows) {
    spent -= r.tenths;
    if (CREDIT_LIMIT * 10 - spent >= tenths) {
      return Math.max(1, Math.ceil((r.at + CREDIT_WINDOW_MS - now) / 1000));
    }
  }
  return CREDIT_WINDOW_MS / 1000;
}

export function spendCredits(sql: SqlStorage, account: string, tenths: number, now: number): void {
  if (tenths > 0) {
    sql.exec("INSERT INTO credits (account, at, tenths) VALUES (?, ?, ?)", account, now, tenths);
  }
}

export function clearCredits(sql: SqlStorage, account: string): void {
  sql.exec("DELETE FROM credits WHERE account = ?", account);
}

export type CreditDecision = GateDecision & { account: string | null; credits: Credits };

/**
 * One inventory call: an injected fault, then the token, then the credits. Credits are always
 * counted (so the headers are true); a call that does not fit is refused only while the
 * `enforce_rate_limit` switch is on.
 */
export function creditGate(
  sql: SqlStorage,
  token: string | null,
  costTenths: number,
  now: number,
  path: string,
): CreditDecision {
  const account = token ? tokenClient(sql, token, now) : null;
  const view = (cost = 0): Credits => {
    if (!account) return ANONYMOUS_CREDITS;
    const { remaining, resets_in } = creditView(sql, account, now);
    return { cost: cost / 10, remaining, resets_in };
  };
  const fault = injectedFault(sql, path);
  if (fault) return { ...fault, account, credits: view() };
  const latency = readFaults(sql).latency_ms;
  if (!account) {
    return {
      latency_ms: latency,
      outcome: { type: "unauthorized" },
      account,
      credits: ANONYMOUS_CREDITS,
    };
  }
  const before = creditView(sql, account, now);
  if (readFaults(sql).enforce_rate_limit && before.remaining * 10 < costTenths) {
    return {
      latency_ms: latency,
      outcome: {
        type: "rate_limited",
        retry_after: secondsUntilFits(sql, account, costTenths, now),
      },
      account,
      credits: view(),
    };
  }
  spendCredits(sql, account, costTenths, now);
  return {
    latency_ms: latency,
    outcome: { type: "ok", client_id: account },
    account,
    credits: view(costTenths),
  };
}

// ---- authentication ----

export function createInviteCode(sql: SqlStorage, account: string): string {
  const code = `inv_${randomHex(16)}`;
  sql.exec("INSERT INTO invite_codes (code, account) VALUES (?, ?)", code, account);
  return code;
}

export interface Grant {
  token: string;
  expiresIn: number;
  account: string;
  credits: Credits;
}

function mintAccessToken(sql: SqlStorage, account: string, now: number): Grant {
  const token = `b24_${randomHex(24)}`;
  storeToken(sql, token, account, now + ACCESS_TOKEN_TTL_S * 1000);
  const { remaining, resets_in } = creditView(sql, account, now);
  return {
    token,
    expiresIn: ACCESS_TOKEN_TTL_S,
    account,
    credits: { cost: 0, remaining, resets_in },
  };
}

/** Exchange an invite code, once: a new refresh token and an access token. Null: unknown or used. */
export function redeemInviteCode(
  sql: SqlStorage,
  code: string,
  now: number,
): (Grant & { refreshToken: string }) | null {
  const row = sql
    .exec<{ account: string }>("SELECT account FROM invite_codes WHERE code = ? AND used = 0", code)
    .toArray()[0];
  if (!row) return null;
  sql.exec("UPDATE invite_codes SET used = 1 WHERE code = ?", code);
  const refreshToken = `b24r_${randomHex(24)}`;
  storeRefreshToken(sql, row.account, refreshToken);
  return { ...mintAccessToken(sql, row.account, now), refreshToken };
}

/** A new access token for a refresh token (the configured one belongs to DEFAULT_ACCOUNT). */
export function refreshAccessToken(
  sql: SqlStorage,
  refreshToken: string,
  configured: string | undefined,
  now: number,
): Grant | null {
  const account = accountForRefreshToken(sql, refreshToken, configured);
  return account ? mintAccessToken(sql, account, now) : null;
}

export function tokenDetails(
  sql: SqlStorage,
  token: string | null,
  now: number,
): { account: string; expiresIn: number; credits: Credits } | null {
  if (!token) return null;
  const row = sql
    .exec<{ client_id: string; expires_at: number }>(
      "SELECT client_id, expires_at FROM tokens WHERE token = ? AND expires_at > ?",
      token,
      now,
    )
    .toArray()[0];
  if (!row) return null;
  const { remaining, resets_in } = creditView(sql, row.client_id, now);
  return {
    account: row.client_id,
    expiresIn: Math.floor((row.expires_at - now) / 1000),
    credits: { cost: 0, remaining, resets_in },
  };
}

// ---- properties and rooms ----

/** Beds24 room ids are unique across properties, so a room is found by its id alone. */
export function roomById(sql: SqlStorage, roomId: string): UnitRow | null {
  return (
    (sql
      .exec("SELECT * FROM units WHERE unit_id = ? ORDER BY property_id LIMIT 1", roomId)
      .toArray()[0] as unknown as UnitRow | undefined) ?? null
  );
}

/** A room as an account's token sees it: another account's room is as absent as an unknown one. */
export function ownedRoom(sql: SqlStorage, roomId: string, account: string): UnitRow | null {
  const room = roomById(sql, roomId);
  return room && propertyRecord(sql, room.property_id)?.account === account ? room : null;
}

export interface OwnedProperty {
  id: string;
  account: string;
  rooms: UnitRow[];
}

/** The account's properties (only those named when `ids` is given), by id. */
export function accountProperties(
  sql: SqlStorage,
  account: string,
  ids: readonly string[] | null,
): OwnedProperty[] {
  const byId = new Map<string, OwnedProperty>();
  for (const room of ownedUnits(sql, account, ids)) {
    const p = byId.get(room.property_id) ?? { id: room.property_id, account, rooms: [] };
    p.rooms.push(room);
    byId.set(room.property_id, p);
  }
  return [...byId.values()].sort((a, b) => Number(a.id) - Number(b.id));
}

export type PutRoomResult =
  { ok: true; room: UnitRow; account: string } | { ok: false; message: string };

/**
 * Create or update a room. A room id names one room across properties, and a property belongs
 * to one account: a room cannot move to another property, nor a property to another account.
 */
export function putRoom(
  sql: SqlStorage,
  propId: string,
  roomId: string,
  patch: UnitPatch,
  account: string | undefined,
): PutRoomResult {
  const existing = roomById(sql, roomId);
  if (existing && existing.property_id !== propId) {
    return { ok: false, message: `room ${roomId} belongs to property ${existing.property_id}` };
  }
  const owner = propertyRecord(sql, propId)?.account;
  if (owner && account && owner !== account) {
    return { ok: false, message: `property ${propId} belongs to account ${owner}` };
  }
  const record = owner ? { account: owner } : putProperty(sql, propId, { account });
  return { ok: true, room: upsertUnit(sql, propId, roomId, patch), account: record.account };
}
