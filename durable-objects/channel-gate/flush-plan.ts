import { datesToRanges } from "../../src/domain/date-ranges";
import { addDays, type DateRange, type IsoDate } from "../../src/domain/dates";
import type { NightAspect, NightState, PlannedCall } from "../../src/platforms/contract";

/**
 * The pure half of a flush's planning: values in, decisions out, no storage (tested in node,
 * test/unit/durable-objects/channel-gate/flush-plan.test.ts and incremental-push-plan.test.ts). planner.ts feeds it from the
 * gate's tables and D1; flush.ts acts on what it decides.
 */

/** A kind of pending work; CLASSES lists them in the order they go out. */
export type PendingClass =
  { aspect: "availability"; urgent: boolean } | { aspect: "price"; urgent: false };

/** Urgent availability (nights a booking sold) first, then the rest of availability, then prices. */
export const CLASSES: readonly PendingClass[] = [
  { aspect: "availability", urgent: true },
  { aspect: "availability", urgent: false },
  { aspect: "price", urgent: false },
];

/** A held group's reason when its room type has no confirmed mapping. */
export const UNMAPPED = "unmapped";

/** What was sent for one night and aspect, and where to: equal strings mean nothing to send. */
export function pushedValue(target: string, aspect: NightAspect, n: NightState): string {
  return aspect === "availability"
    ? `${target}|a|${n.available}`
    : `${target}|p|${n.priceMinor ?? ""}|${n.currency ?? ""}`;
}

/**
 * What one pending night needs: nothing at all (a price night with no price anywhere), nothing
 * because its current value is what this gate last sent there (a mark that came after the push
 * that carried its change would otherwise send a whole window again), or a request.
 */
export function nightAction(
  aspect: NightAspect,
  night: NightState,
  value: string,
  lastSent: string | undefined,
  forced: boolean,
): "empty" | "unchanged" | "send" {
  if (aspect === "price" && night.priceMinor === undefined) return "empty";
  if (!forced && lastSent === value) return "unchanged";
  return "send";
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

/** Ranges over sorted dates, with gaps of up to a week bridged: fewer D1 queries per push. */
export function coalesceWithin(dates: readonly IsoDate[]): DateRange[] {
  const ranges = datesToRanges(dates);
  const out: DateRange[] = [];
  for (const r of ranges) {
    const last = out.at(-1);
    if (last && addDays(last.end, 8) >= r.start) last.end = r.end;
    else out.push({ ...r });
  }
  return out;
}

/**
 * Calls that may leave now, at least one: what is planned beyond them would be read from D1
 * only to wait. Bulk pushes leave the urgent reserve; urgent ones may use it, and while urgent
 * work is pending bulk gets no call the limiter has not got for it.
 */
export function pushBudget(
  tokens: { outbound: number; bulk: number },
  urgentPending: boolean,
): { urgent: number; bulk: number } {
  const whole = (n: number) => Math.max(0, Math.floor(n));
  return {
    urgent: Math.max(1, whole(tokens.outbound)),
    bulk: Math.max(urgentPending ? 0 : 1, whole(tokens.bulk)),
  };
}

/** What a planning pass learnt about the groups ("roomType|aspect") it looked at. */
export interface GroupsSeen {
  /** Groups this flush looked at. */
  visited: Set<string>;
  /** Groups the platform cannot take as mapped, and why. */
  skipped: Map<string, string>;
  /** Room types with pending nights and no confirmed mapping. */
  unmapped: string[];
}

/**
 * Groups the platform cannot take as mapped after this pass, and the blocked reason they make
 * (null: nothing held). Kept across flushes: one that stops at its budget does not look at every
 * group again, so a reason stays while its group is pending and was not looked at; a missing
 * mapping is looked up every flush, so it stays only if this pass found it again.
 */
export function heldAfter(
  before: Record<string, string>,
  pending: Set<string>,
  seen: GroupsSeen,
): { held: Record<string, string>; reason: string | null } {
  const held: Record<string, string> = {};
  for (const [group, reason] of Object.entries(before)) {
    if (reason !== UNMAPPED && pending.has(group) && !seen.visited.has(group)) held[group] = reason;
  }
  for (const [group, reason] of seen.skipped) held[group] = reason;
  for (const id of seen.unmapped) {
    held[`${id}|availability`] = UNMAPPED;
    held[`${id}|price`] = UNMAPPED;
  }
  const reasons = [...new Set(Object.values(held).filter((r) => r !== UNMAPPED))];
  if (seen.unmapped.length > 0)
    reasons.unshift(`room types without a mapping: ${seen.unmapped.join(", ")}`);
  return { held, reason: reasons.length > 0 ? reasons.join("; ") : null };
}

/** Whether urgent availability is pending where the platform can take it. */
export function urgentPushable(urgentRoomTypes: string[], held: Record<string, string>): boolean {
  return urgentRoomTypes.some((id) => !(`${id}|availability` in held));
}

/**
 * Pending rows a flush could push now (not held by a missing mapping or the platform, nor
 * prices while price sync is off), and those of them that are not urgent.
 */
export function pushableLeft(
  tally: ReadonlyArray<{ room_type_id: string; aspect: string; urgent: number; n: number }>,
  held: Set<string>,
  pushPrices: boolean,
): { total: number; bulk: number } {
  const rows = tally
    .filter((r) => !held.has(`${r.room_type_id}|${r.aspect}`))
    .filter((r) => pushPrices || r.aspect !== "price");
  const sum = (list: typeof rows) => list.reduce((t, r) => t + r.n, 0);
  return {
    total: sum(rows),
    bulk: sum(rows.filter((r) => !(r.aspect === "availability" && r.urgent))),
  };
}
