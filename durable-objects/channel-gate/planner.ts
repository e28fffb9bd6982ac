import type { IsoDate } from "../../src/domain/dates";
import type {
  NightAspect,
  NightState,
  PlannedCall,
  PlatformAdapter,
  PushTarget,
} from "../../src/platforms/contract";
import {
  CLASSES,
  coalesceWithin,
  firstCalls,
  nightAction,
  pushedValue,
  type GroupsSeen,
  type PendingClass,
} from "./flush-plan";
import { ledgerNightsBetween, pushRoomType, type PushRoomType } from "../../src/store/gate";
import type { PendingNight, PendingNights } from "./pending";
import type { PushedNights } from "./pushed";

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
 * time sends the same, fewest, requests as planning everything at once (firstCalls).
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
  pending: PendingNights;
  pushed: PushedNights;
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

export interface PushPlanning extends GroupsSeen {
  planned: PlannedPush[];
  /** Nights done without a call: their value is what this gate last sent there. */
  unchanged: number;
}

type RoomTypeRow = PushRoomType;

export async function planPushes(input: PlanInput): Promise<PushPlanning> {
  const out: PushPlanning = {
    planned: [],
    unmapped: [],
    visited: new Set(),
    skipped: new Map(),
    unchanged: 0,
  };
  out.unmapped = input.pending.roomTypes().filter((id) => !input.roomOf.has(id));
  const reader = new NightReader(input.db);
  // Tokens left; an urgent call spends one of both, since bulk's share is the pool minus a reserve.
  const left = { ...input.budget };
  for (const c of CLASSES) {
    if (c.aspect === "price" && !input.pushPrices) continue;
    const roomTypes = input.pending.roomTypes(c).filter((id) => input.roomOf.has(id));
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

/** One group's nights kept for a request so far, with what each sends. */
type Kept = Array<{ row: PendingNight; night: NightState; value: string }>;

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
  c: PendingClass,
  maxCalls: number,
): Promise<PlannedPush[]> {
  const aspect: NightAspect = c.aspect;
  const group = `${roomTypeId}|${aspect}`;
  out.visited.add(group);
  const target: PushTarget = {
    externalPropertyId: input.externalPropertyId,
    externalRoomId: input.roomOf.get(roomTypeId)!,
    externalRatePlanId: input.rateOf.get(roomTypeId),
  };
  const rows = input.pending.nights(roomTypeId, c);
  const sent = input.pushed.values(roomTypeId, aspect);
  const kept: Kept = [];
  let skipped: Array<{ aspect: NightAspect; reason: string }> = [];
  const readUpTo = async (from: number, to: number): Promise<PlannedCall[] | null> => {
    const batch = rows.slice(from, to);
    const nights = await reader.read(
      roomTypeId,
      batch.map((r) => r.night),
    );
    if (!nights) return null;
    triage(input, out, roomTypeId, aspect, target, sent, batch, nights, kept);
    const states = kept.map((k) => k.night);
    const plan = input.adapter.planPush(
      target,
      aspect === "availability"
        ? { availability: states, price: [] }
        : { availability: [], price: states },
      input.now,
    );
    skipped = plan.skipped;
    return plan.calls;
  };
  const calls = await firstCalls(rows.length, input.adapter.maxNightsPerCall, maxCalls, readUpTo);
  if (!calls) {
    // The room type is gone: nothing will ever take these nights.
    input.pending.clearRoomType(roomTypeId);
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

/** Clear the nights of a batch that need no request; keep the others, with what they send. */
function triage(
  input: PlanInput,
  out: PushPlanning,
  roomTypeId: string,
  aspect: NightAspect,
  target: PushTarget,
  sent: Map<string, string>,
  batch: PendingNight[],
  nights: NightState[],
  kept: Kept,
): void {
  const where = `${target.externalRoomId}|${target.externalRatePlanId ?? ""}`;
  batch.forEach((row, i) => {
    const night = nights[i]!;
    const value = pushedValue(where, aspect, night);
    const action = nightAction(aspect, night, value, sent.get(row.night), Boolean(row.forced));
    if (action === "send") return void kept.push({ row, night, value });
    if (action === "unchanged") out.unchanged += 1;
    input.pending.clear(roomTypeId, row.night, aspect, row.seq);
  });
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
      const rows = await ledgerNightsBetween(this.db, roomTypeId, r.start, r.end);
      for (const row of rows) ledger.set(row.night, row);
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
      this.roomTypes.set(id, await pushRoomType(this.db, id));
    }
    return this.roomTypes.get(id) ?? null;
  }
}
