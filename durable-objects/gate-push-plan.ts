import { datesToRanges } from "../src/domain/date-ranges";
import { addDays, type DateRange, type IsoDate } from "../src/domain/dates";
import type {
  NightAspect,
  NightState,
  PlannedCall,
  PlatformAdapter,
  PushTarget,
} from "../src/platforms/types";

/**
 * The ChannelGate's push planning: which requests a flush sends, read from the gate's pending
 * nights and the truth in D1. Incremental: a flush plans only as many calls as may leave now
 * (the limiter's tokens), so a year of backlog on forty room types costs a few D1 reads a flush,
 * not one per room type. Urgent availability (nights a booking sold) is planned before anything
 * else, then the rest of availability, then prices, each room type in turn.
 *
 * The platforms' request packing is greedy from the first night (31-day windows, calls of runs),
 * so the first calls of a plan over the first pending nights are the first calls of the plan over
 * all of them, and sending them leaves a remainder whose plan is the rest: planning a few at a
 * time sends the same, fewest, requests as planning everything at once.
 */

export interface PlannedPush {
  roomTypeId: string;
  call: PlannedCall;
  /** Carries nights a booking sold: it may use the tokens bulk pushes leave. */
  urgent: boolean;
  /** The pending seq of each night it carries: only nights not marked again meanwhile clear. */
  seqs: Map<IsoDate, number>;
  /** What it sends per night (pushedValue), remembered once it succeeds. */
  values: Map<IsoDate, string>;
}

export interface PlanInput {
  sql: SqlStorage;
  db: D1Database;
  adapter: PlatformAdapter;
  externalPropertyId: string;
  /** Confirmed mappings: room type → platform room, room type → platform rate plan. */
  roomOf: Map<string, string>;
  rateOf: Map<string, string>;
  pushPrices: boolean;
  now: number;
  /** Calls that may leave now: urgent ones may use every outbound token, bulk ones fewer. */
  budget: { urgent: number; bulk: number };
}

export interface PushPlanning {
  planned: PlannedPush[];
  /** Room types with pending nights and no confirmed mapping. */
  unmapped: string[];
  /** "roomType|aspect" groups this flush looked at, and why the platform cannot take those it cannot. */
  visited: Set<string>;
  skipped: Map<string, string>;
  /** Nights done without a call: their value is what this gate last sent there. */
  unchanged: number;
}

interface PendingNight extends Record<string, SqlStorageValue> {
  night: string;
  seq: number;
  forced: number;
}

interface RoomTypeRow {
  units: number;
  basePriceMinor: number | null;
  currency: string | null;
}

/** What was sent for one night and aspect, and where to: equal strings mean nothing to send. */
export function pushedValue(target: string, aspect: NightAspect, n: NightState): string {
  return aspect === "availability"
    ? `${target}|a|${n.available}`
    : `${target}|p|${n.priceMinor ?? ""}|${n.currency ?? ""}`;
}

/** A pending night is done, unless it was marked again meanwhile (its seq moved on). */
export function clearPending(
  sql: SqlStorage,
  roomTypeId: string,
  night: string,
  aspect: NightAspect,
  seq: number,
): void {
  sql.exec(
    `DELETE FROM pending_nights WHERE room_type_id = ? AND night = ? AND aspect = ? AND seq = ?`,
    roomTypeId,
    night,
    aspect,
    seq,
  );
}

/** The kinds of pending work, in the order they go out. */
const CLASSES = [
  { aspect: "availability", urgent: true, where: "aspect = 'availability' AND urgent = 1" },
  { aspect: "availability", urgent: false, where: "aspect = 'availability' AND urgent = 0" },
  { aspect: "price", urgent: false, where: "aspect = 'price'" },
] as const;

export async function planPushes(input: PlanInput): Promise<PushPlanning> {
  const out: PushPlanning = {
    planned: [],
    unmapped: [],
    visited: new Set(),
    skipped: new Map(),
    unchanged: 0,
  };
  const pendingRoomTypes = input.sql
    .exec<{ id: string }>(`SELECT DISTINCT room_type_id AS id FROM pending_nights ORDER BY id`)
    .toArray()
    .map((r) => r.id);
  out.unmapped = pendingRoomTypes.filter((id) => !input.roomOf.has(id));
  const reader = new NightReader(input.db);
  // Tokens left; an urgent call spends one of both, since bulk's share is the pool minus a reserve.
  const left = { ...input.budget };
  for (const c of CLASSES) {
    if (c.aspect === "price" && !input.pushPrices) continue;
    const roomTypes = input.sql
      .exec<{ id: string }>(
        `SELECT DISTINCT room_type_id AS id FROM pending_nights WHERE ${c.where} ORDER BY id`,
      )
      .toArray()
      .map((r) => r.id)
      .filter((id) => input.roomOf.has(id));
    for (const roomTypeId of roomTypes) {
      const room = c.urgent ? left.urgent : Math.min(left.urgent, left.bulk);
      if (room <= 0) break;
      const calls = await planGroup(input, reader, out, roomTypeId, c, room);
      out.planned.push(...calls);
      left.urgent -= calls.length;
      left.bulk -= calls.length;
    }
  }
  return out;
}

/**
 * The first `maxCalls` calls for one room type's pending nights of one kind. Nights are read from
 * D1 a slice at a time: enough for one call more than wanted, since the last call of a slice may
 * want nights beyond it; the calls before it are complete.
 */
async function planGroup(
  input: PlanInput,
  reader: NightReader,
  out: PushPlanning,
  roomTypeId: string,
  c: (typeof CLASSES)[number],
  maxCalls: number,
): Promise<PlannedPush[]> {
  const { sql, adapter } = input;
  const aspect: NightAspect = c.aspect;
  const group = `${roomTypeId}|${aspect}`;
  out.visited.add(group);
  const externalRoomId = input.roomOf.get(roomTypeId)!;
  const target: PushTarget = {
    externalPropertyId: input.externalPropertyId,
    externalRoomId,
    externalRatePlanId: input.rateOf.get(roomTypeId),
  };
  const where = `${target.externalRoomId}|${target.externalRatePlanId ?? ""}`;
  const rows = sql
    .exec<PendingNight>(
      `SELECT night, seq, forced FROM pending_nights WHERE room_type_id = ? AND ${c.where} ORDER BY night`,
      roomTypeId,
    )
    .toArray();
  const sent = new Map(
    sql
      .exec<{ night: string; value: string }>(
        `SELECT night, value FROM pushed_nights WHERE room_type_id = ? AND aspect = ?`,
        roomTypeId,
        aspect,
      )
      .toArray()
      .map((p) => [p.night, p.value]),
  );
  const kept: Array<{ row: PendingNight; night: NightState; value: string }> = [];
  let skipped: Array<{ aspect: NightAspect; reason: string }> = [];
  const readUpTo = async (from: number, to: number): Promise<PlannedCall[] | null> => {
    const batch = rows.slice(from, to);
    const nights = await reader.read(
      roomTypeId,
      batch.map((r) => r.night),
    );
    if (!nights) return null;
    batch.forEach((row, i) => {
      const night = nights[i]!;
      // A night with no price anywhere has nothing to send.
      if (aspect === "price" && night.priceMinor === undefined) {
        return clearPending(sql, roomTypeId, row.night, aspect, row.seq);
      }
      const value = pushedValue(where, aspect, night);
      // Its current value is what this gate last sent there: done without a call (a mark that
      // came after the push that carried its change would otherwise send a whole window again).
      if (!row.forced && sent.get(row.night) === value) {
        out.unchanged += 1;
        return clearPending(sql, roomTypeId, row.night, aspect, row.seq);
      }
      kept.push({ row, night, value });
    });
    const states = kept.map((k) => k.night);
    const plan = adapter.planPush(
      target,
      aspect === "availability"
        ? { availability: states, price: [] }
        : { availability: [], price: states },
      input.now,
    );
    skipped = plan.skipped;
    return plan.calls;
  };
  const calls = await firstCalls(rows.length, adapter.maxNightsPerCall, maxCalls, readUpTo);
  if (!calls) {
    // The room type is gone: nothing will ever take these nights.
    sql.exec(`DELETE FROM pending_nights WHERE room_type_id = ?`, roomTypeId);
    return [];
  }
  for (const s of skipped) out.skipped.set(group, `room type ${roomTypeId}: ${s.reason}`);
  const byNight = new Map(kept.map((k) => [k.row.night, k]));
  return calls.map((call) => ({
    roomTypeId,
    call,
    urgent: c.urgent,
    seqs: new Map(call.dates.map((d) => [d, byNight.get(d)?.row.seq ?? -1])),
    values: new Map(call.dates.map((d) => [d, byNight.get(d)?.value ?? ""])),
  }));
}

/**
 * The first `maxCalls` calls of the plan over `count` sorted pending nights, read a slice at a
 * time: `readUpTo(from, to)` reads nights [from, to) and plans everything read so far (null: the
 * room type is gone). A call carries at most `maxNightsPerCall` nights, so a slice of that times
 * one call more than wanted plans at least that many calls; the last of them may want nights
 * beyond the slice, the ones before it are complete, and the platforms' packing is greedy from
 * the first night, so they are the first calls of the plan over every night.
 */
export async function firstCalls(
  count: number,
  maxNightsPerCall: number,
  maxCalls: number,
  readUpTo: (from: number, to: number) => Promise<PlannedCall[] | null>,
): Promise<PlannedCall[] | null> {
  const slice = (maxCalls + 1) * maxNightsPerCall;
  for (let offset = 0; ;) {
    const to = Math.min(count, offset + slice);
    const calls = await readUpTo(offset, to);
    if (calls === null) return null;
    offset = to;
    if (offset >= count || calls.length > maxCalls) return calls.slice(0, maxCalls);
  }
}

/** Reads the truth for nights from D1 (the ledger, or the room type when untouched). */
class NightReader {
  private readonly roomTypes = new Map<string, RoomTypeRow | null>();

  constructor(private readonly db: D1Database) {}

  async read(roomTypeId: string, nights: IsoDate[]): Promise<NightState[] | null> {
    const roomType = await this.roomType(roomTypeId);
    if (!roomType) return null;
    const ledger = new Map<string, { available: number; priceMinor: number | null }>();
    for (const r of coalesceWithin(nights)) {
      const rows = await this.db
        .prepare(
          `SELECT night, capacity - booked - blocked AS available, price_minor AS priceMinor
           FROM inventory_nights WHERE room_type_id = ? AND night BETWEEN ? AND ?`,
        )
        .bind(roomTypeId, r.start, r.end)
        .all<{ night: string; available: number; priceMinor: number | null }>();
      for (const row of rows.results) ledger.set(row.night, row);
    }
    return nights.map((date) => {
      const row = ledger.get(date);
      const priceMinor = row?.priceMinor ?? roomType.basePriceMinor;
      return {
        date,
        available: Math.max(0, row?.available ?? roomType.units),
        ...(priceMinor !== null && roomType.currency
          ? { priceMinor, currency: roomType.currency }
          : {}),
      };
    });
  }

  /** Once per flush: units, base price and currency do not move between its calls. */
  private async roomType(id: string): Promise<RoomTypeRow | null> {
    if (!this.roomTypes.has(id)) {
      const row = await this.db
        .prepare(
          `SELECT units, base_price_minor AS basePriceMinor, currency FROM room_types WHERE id = ?`,
        )
        .bind(id)
        .first<RoomTypeRow>();
      this.roomTypes.set(id, row ?? null);
    }
    return this.roomTypes.get(id) ?? null;
  }
}

/** Ranges over sorted dates, with gaps of up to a week bridged: fewer D1 queries per push. */
function coalesceWithin(dates: readonly IsoDate[]): DateRange[] {
  const ranges = datesToRanges(dates);
  const out: DateRange[] = [];
  for (const r of ranges) {
    const last = out.at(-1);
    if (last && addDays(last.end, 8) >= r.start) last.end = r.end;
    else out.push({ ...r });
  }
  return out;
}
