import { DurableObject } from "cloudflare:workers";
import * as airbnb from "./airbnb/store";
import * as beds24 from "./beds24/store";
import * as booking from "./booking-com/store";
import * as accounts from "./kit/store/accounts";
import {
  type DayView,
  getUnit,
  listUnits,
  readDays,
  upsertUnit,
  writeDays,
} from "./kit/store/calendar";
import * as faults from "./kit/store/faults";
import * as held from "./kit/store/held";
import * as idempotency from "./kit/store/idempotency";
import * as limits from "./kit/store/limits";
import * as logs from "./kit/store/logs";
import {
  cancelReservation,
  createReservation,
  getReservation,
  listReservations,
  modifyReservation,
} from "./kit/store/reservations";
import { SCHEMA, TABLES } from "./kit/store/schema";
import { storeToken } from "./kit/store/tokens";
import {
  DEFAULT_FAULTS,
  type DayWrite,
  type Faults,
  type GateDecision,
  type HeldDelivery,
  type InventoryModel,
  type NewReceivedBody,
  type NewReservation,
  type PlatformName,
  type RateWindow,
  type ReceivedBody,
  type ReceivedQuery,
  type RequestLogEntry,
  type ReservationChange,
  type ReservationResult,
  type ReservationRow,
  type UnitPatch,
  type UnitRow,
} from "./kit/store/types";

export type IdempotentWrite =
  | { kind: "applied" | "replayed"; status: number; body: string }
  | { kind: "mismatch" }
  | { kind: "not_found" };

/**
 * All state of one simulated platform (one instance per platform, by name): the kit's stores
 * every simulator uses, then each simulator's own (its folder's store.ts). Every method is a
 * synchronous SQLite transaction, so concurrent calls never interleave inside a method.
 */
export class PlatformState extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  reset(): void {
    for (const table of TABLES) this.sql.exec(`DELETE FROM ${table}`);
  }

  // ---- faults and the API gate ----

  getFaults(): Faults {
    return faults.readFaults(this.sql);
  }

  setFaults(patch: Partial<Faults>): Faults {
    return faults.writeFaults(this.sql, { ...faults.readFaults(this.sql), ...patch });
  }

  clearFaults(): Faults {
    return faults.writeFaults(this.sql, { ...DEFAULT_FAULTS });
  }

  gate(token: string | null, rate: RateWindow, path: string): GateDecision {
    return limits.gate(this.sql, token, rate, Date.now(), path);
  }

  // ---- OAuth ----

  /** Store a minted token, unless the client has hit its minting limit. */
  mintToken(
    token: string,
    clientId: string,
    ttlMs: number,
    limit: RateWindow | null,
  ): { ok: true } | { ok: false; retry_after: number } {
    const now = Date.now();
    if (limit) {
      const r = limits.hit(this.sql, limit, now);
      if (!r.ok) return r;
    }
    storeToken(this.sql, token, clientId, now + ttlMs);
    return { ok: true };
  }

  // ---- logs ----

  /** One platform call: its request-log entry and, when it carried one, its raw body. */
  logRequest(entry: RequestLogEntry, received: NewReceivedBody | null = null): void {
    logs.logRequest(this.sql, entry);
    if (received) logs.storeReceived(this.sql, received);
  }

  requests(limit: number): RequestLogEntry[] {
    return logs.listRequests(this.sql, limit);
  }

  received(query: ReceivedQuery): ReceivedBody[] {
    return logs.listReceived(this.sql, query);
  }

  // ---- webhooks held back by reorder_webhooks ----

  hold(deliveries: HeldDelivery[]): void {
    held.holdDeliveries(this.sql, deliveries);
  }

  takeHeld(): HeldDelivery[] {
    return held.takeHeld(this.sql);
  }

  // ---- units and calendars ----

  upsertUnit(propertyId: string, unitId: string, patch: UnitPatch): UnitRow {
    return upsertUnit(this.sql, propertyId, unitId, patch);
  }

  getUnit(propertyId: string, unitId: string): UnitRow | null {
    return getUnit(this.sql, propertyId, unitId);
  }

  listUnits(propertyId: string): UnitRow[] {
    return listUnits(this.sql, propertyId);
  }

  /** Null when the unit does not exist. */
  readCalendar(
    propertyId: string,
    unitId: string,
    start: string,
    endInclusive: string,
    model: InventoryModel,
  ): DayView[] | null {
    const unit = getUnit(this.sql, propertyId, unitId);
    return unit ? readDays(this.sql, unit, start, endInclusive, model) : null;
  }

  /** Validated writes from an API message; the caller has checked that every unit exists. */
  writeDays(writes: DayWrite[]): number {
    return writeDays(this.sql, writes, Date.now());
  }

  /**
   * An API write guarded by an Idempotency-Key: a repeated key answers the stored response without
   * applying again. Only applied writes are remembered (a refused request can be retried as is).
   */
  idempotentWrite(input: {
    propertyId: string;
    unitId: string;
    writes: DayWrite[];
    key: string | null;
    method: string;
    path: string;
    requestBody: string;
  }): IdempotentWrite {
    const now = Date.now();
    const { key, method, path, requestBody } = input;
    if (key) {
      const seen = idempotency.checkIdempotency(this.sql, key, method, path, requestBody, now);
      if (seen.kind === "mismatch") return seen;
      if (seen.kind === "replay") return { kind: "replayed", status: seen.status, body: seen.body };
    }
    if (!getUnit(this.sql, input.propertyId, input.unitId)) return { kind: "not_found" };
    const body = JSON.stringify({ updated_days: writeDays(this.sql, input.writes, now) });
    if (key) {
      idempotency.rememberIdempotency(this.sql, key, method, path, requestBody, 200, body, now);
    }
    return { kind: "applied", status: 200, body };
  }

  // ---- accounts and ownership ----

  createAccount(name: string | null, configured: string | undefined) {
    return accounts.createAccount(this.sql, name, configured);
  }

  accountForRefreshToken(token: string, configured: string | undefined): string | null {
    return accounts.accountForRefreshToken(this.sql, token, configured);
  }

  propertyAccess(propertyId: string, account: string): accounts.Access {
    return accounts.propertyAccess(this.sql, propertyId, account);
  }

  /** A reservation as `account` may see it: its listing/property must be the account's. */
  reservationFor(
    id: string,
    account: string,
  ): { access: "ok"; reservation: ReservationRow } | { access: "not_found" | "forbidden" } {
    const reservation = getReservation(this.sql, id);
    if (!reservation) return { access: "not_found" };
    const access = accounts.propertyAccess(this.sql, reservation.property_id, account);
    return access === "ok" ? { access, reservation } : { access: "forbidden" };
  }

  // ---- reservations ----

  getReservation(id: string): ReservationRow | null {
    return getReservation(this.sql, id);
  }

  listReservations(propertyId: string | null, unitId: string | null): ReservationRow[] {
    return listReservations(this.sql, propertyId, unitId);
  }

  createReservation(input: NewReservation, model: InventoryModel): ReservationResult {
    return createReservation(this.sql, input, model, Date.now());
  }

  modifyReservation(
    id: string,
    change: ReservationChange,
    model: InventoryModel,
  ): ReservationResult {
    return modifyReservation(this.sql, id, change, model, Date.now());
  }

  cancelReservation(id: string, model: InventoryModel): ReservationResult {
    return cancelReservation(this.sql, id, model, Date.now());
  }

  // ---- airbnb/store.ts: listings and their hosts ----

  putListing(
    id: string,
    patch: UnitPatch,
    account: string | undefined,
    configured: string | undefined,
  ): airbnb.PutListingResult {
    return airbnb.putListing(this.sql, id, patch, account, configured);
  }

  // ---- booking-com/store.ts: hotels, pulls and acknowledgements ----

  hotel(hotelId: string): booking.Hotel | null {
    return booking.hotel(this.sql, hotelId);
  }

  putHotel(hotelId: string, authorised: boolean | undefined): booking.Hotel {
    return booking.putHotel(this.sql, hotelId, authorised);
  }

  pullPending(propertyId: string | null): ReservationRow[] {
    return booking.pullPending(this.sql, propertyId);
  }

  acknowledge(ids: string[]): booking.AckResult {
    return booking.acknowledge(this.sql, ids);
  }

  // ---- beds24/store.ts: invite codes, tokens, credits, rooms ----

  creditGate(token: string | null, costTenths: number, path: string): beds24.CreditDecision {
    return beds24.creditGate(this.sql, token, costTenths, Date.now(), path);
  }

  createInviteCode(account: string): string {
    return beds24.createInviteCode(this.sql, account);
  }

  redeemInviteCode(code: string): (beds24.Grant & { refreshToken: string }) | null {
    return beds24.redeemInviteCode(this.sql, code, Date.now());
  }

  refreshAccessToken(refreshToken: string, configured: string | undefined): beds24.Grant | null {
    return beds24.refreshAccessToken(this.sql, refreshToken, configured, Date.now());
  }

  tokenDetails(token: string | null): ReturnType<typeof beds24.tokenDetails> {
    return beds24.tokenDetails(this.sql, token, Date.now());
  }

  credits(account: string): beds24.CreditView {
    return beds24.creditView(this.sql, account, Date.now());
  }

  /** Spend credits on an account as other API clients would (tests: a nearly spent account). */
  spendCredits(account: string, credits: number): beds24.CreditView {
    const now = Date.now();
    beds24.spendCredits(this.sql, account, Math.round(credits * 10), now);
    return beds24.creditView(this.sql, account, now);
  }

  /** Forget an account's spends, as if its window had passed. */
  clearCredits(account: string): beds24.CreditView {
    beds24.clearCredits(this.sql, account);
    return beds24.creditView(this.sql, account, Date.now());
  }

  putRoom(
    propId: string,
    roomId: string,
    patch: UnitPatch,
    account: string | undefined,
  ): beds24.PutRoomResult {
    return beds24.putRoom(this.sql, propId, roomId, patch, account);
  }

  /** The room, if it exists and belongs to the account. */
  ownedRoom(roomId: string, account: string): UnitRow | null {
    return beds24.ownedRoom(this.sql, roomId, account);
  }

  ownedRooms(account: string): UnitRow[] {
    return accounts.ownedUnits(this.sql, account);
  }

  accountProperties(account: string, ids: string[] | null): beds24.OwnedProperty[] {
    return beds24.accountProperties(this.sql, account, ids);
  }
}

export function platformState(env: Env, platform: PlatformName): DurableObjectStub<PlatformState> {
  return (env.PLATFORM_STATE as DurableObjectNamespace<PlatformState>).getByName(platform);
}
