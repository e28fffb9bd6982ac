import { DurableObject } from "cloudflare:workers";
import * as beds24 from "./beds24-store";
import {
  type DayView,
  getUnit,
  listUnits,
  readDays,
  upsertUnit,
  writeDays,
} from "./calendar-store";
import * as ops from "./ops-store";
import {
  acknowledge,
  type AckResult,
  cancelReservation,
  createReservation,
  getReservation,
  listReservations,
  modifyReservation,
  pullPending,
} from "./reservation-store";
import { SCHEMA, TABLES } from "./schema";
import {
  DEFAULT_FAULTS,
  type DayWrite,
  type Faults,
  type GateDecision,
  type HeldDelivery,
  type InventoryModel,
  type NewReservation,
  type PlatformName,
  type RateWindow,
  type ReceivedBody,
  type RequestLogEntry,
  type ReservationChange,
  type ReservationResult,
  type ReservationRow,
  type UnitPatch,
  type UnitRow,
} from "./types";

export type IdempotentWrite =
  | { kind: "applied" | "replayed"; status: number; body: string }
  | { kind: "mismatch" }
  | { kind: "not_found" };

/**
 * All state of one simulated platform (one instance per platform, by name). Every method is a
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
    return ops.readFaults(this.sql);
  }

  setFaults(patch: Partial<Faults>): Faults {
    return ops.writeFaults(this.sql, { ...ops.readFaults(this.sql), ...patch });
  }

  clearFaults(): Faults {
    return ops.writeFaults(this.sql, { ...DEFAULT_FAULTS });
  }

  gate(token: string | null, rate: RateWindow): GateDecision {
    return ops.gate(this.sql, token, rate, Date.now());
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
      const r = ops.hit(this.sql, limit, now);
      if (!r.ok) return r;
    }
    ops.storeToken(this.sql, token, clientId, now + ttlMs);
    return { ok: true };
  }

  // ---- logs ----

  logRequest(entry: RequestLogEntry): void {
    ops.logRequest(this.sql, entry);
  }

  requests(limit: number): RequestLogEntry[] {
    return ops.listRequests(this.sql, limit);
  }

  storeReceived(entry: ReceivedBody): void {
    ops.storeReceived(this.sql, entry);
  }

  received(limit: number): ReceivedBody[] {
    return ops.listReceived(this.sql, limit);
  }

  // ---- webhooks held back by reorder_webhooks ----

  hold(deliveries: HeldDelivery[]): void {
    ops.holdDeliveries(this.sql, deliveries);
  }

  takeHeld(): HeldDelivery[] {
    return ops.takeHeld(this.sql);
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

  /** Validated writes from an OTA message; the caller has checked that every unit exists. */
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
    if (input.key) {
      const seen = ops.checkIdempotency(
        this.sql,
        input.key,
        input.method,
        input.path,
        input.requestBody,
        now,
      );
      if (seen.kind === "mismatch") return seen;
      if (seen.kind === "replay") return { kind: "replayed", status: seen.status, body: seen.body };
    }
    if (!getUnit(this.sql, input.propertyId, input.unitId)) return { kind: "not_found" };
    const body = JSON.stringify({ updated_days: writeDays(this.sql, input.writes, now) });
    if (input.key) {
      ops.rememberIdempotency(
        this.sql,
        input.key,
        input.method,
        input.path,
        input.requestBody,
        200,
        body,
        now,
      );
    }
    return { kind: "applied", status: 200, body };
  }

  // ---- Beds24: accounts, tokens, credits, rooms ----

  beds24Gate(token: string | null, costTenths: number): beds24.Beds24Decision {
    return beds24.beds24Gate(this.sql, token, costTenths, Date.now());
  }

  beds24InviteCode(account: string): string {
    return beds24.createInviteCode(this.sql, account);
  }

  beds24Setup(code: string): (beds24.Grant & { refreshToken: string }) | null {
    return beds24.redeemInviteCode(this.sql, code, Date.now());
  }

  beds24Refresh(refreshToken: string, configured: string | undefined): beds24.Grant | null {
    return beds24.refreshAccessToken(this.sql, refreshToken, configured, Date.now());
  }

  beds24Details(token: string | null): ReturnType<typeof beds24.tokenDetails> {
    return beds24.tokenDetails(this.sql, token, Date.now());
  }

  beds24Credits(account: string): beds24.CreditView {
    return beds24.creditView(this.sql, account, Date.now());
  }

  /** Spend credits on an account as other API clients would (tests: a nearly spent account). */
  beds24Spend(account: string, credits: number): beds24.CreditView {
    const now = Date.now();
    beds24.spendCredits(this.sql, account, Math.round(credits * 10), now);
    return beds24.creditView(this.sql, account, now);
  }

  /** Forget an account's spends, as if its window had passed. */
  beds24ClearCredits(account: string): beds24.CreditView {
    beds24.clearCredits(this.sql, account);
    return beds24.creditView(this.sql, account, Date.now());
  }

  beds24Room(roomId: string): UnitRow | null {
    return beds24.roomById(this.sql, roomId);
  }

  beds24Rooms(): UnitRow[] {
    return beds24.allRooms(this.sql);
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

  pullPending(propertyId: string | null): ReservationRow[] {
    return pullPending(this.sql, propertyId);
  }

  acknowledge(ids: string[]): AckResult {
    return acknowledge(this.sql, ids);
  }
}

export function platformState(env: Env, platform: PlatformName): DurableObjectStub<PlatformState> {
  return (env.PLATFORM_STATE as DurableObjectNamespace<PlatformState>).getByName(platform);
}
