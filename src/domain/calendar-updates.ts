import type { NightAspect } from "./vocabulary";
import { datesToRanges } from "./date-ranges";
import { addDays, localToday, type DateRange, type IsoDate } from "./dates";

/**
 * PMS calendar updates for one room type: the owner closes units (`blocked`) and sets nightly
 * prices (`price_minor`, NULL = the room type's base price). This is the pure plan: which nights
 * change, which would be over capacity, which outbox ranges follow. Applying it is one D1 batch
 * (store/calendar.ts), run by services/calendar-updates.ts.
 */

/** What an outbox row says changed (the outbox table's `aspect`). */
export type CalendarAspect = NightAspect;

/** The room type being updated, with what the plan needs of it and its property. */
export interface CalendarRoomType {
  id: string;
  tenantId: string;
  propertyId: string;
  units: number;
  basePriceMinor: number | null;
  currency: string | null;
  timeZone: string;
}

/** One night of a request: absent fields stay as they are; `priceMinor: null` clears the override. */
export interface NightUpdate {
  date: IsoDate;
  blocked?: number;
  priceMinor?: number | null;
}

/** A stored inventory_nights row (a missing row is the room type's defaults). */
export interface StoredNight {
  night: IsoDate;
  capacity: number;
  booked: number;
  blocked: number;
  priceMinor: number | null;
}

/** A night whose stored values change, with its values after the update. */
export interface NightWrite {
  date: IsoDate;
  blocked: number;
  priceMinor: number | null;
  blockedChanged: boolean;
  /** The stored override changes (NULL ↔ value, or another value). */
  priceChanged: boolean;
}

export interface CalendarConflict {
  /** Index of the night in the request. */
  index: number;
  date: IsoDate;
  capacity: number;
  booked: number;
  blocked: number;
}

export interface CalendarPlan {
  writes: NightWrite[];
  /** Nights whose blocked units change, ascending. */
  availabilityChanged: IsoDate[];
  /** Nights whose effective price (override ?? base) changes, ascending. */
  priceChanged: IsoDate[];
  /** Nights that would hold more than their capacity: the request must not be applied. */
  conflicts: CalendarConflict[];
}

/** Dates a calendar update may touch: from yesterday (property time) to today + horizon. */
export function calendarWindow(
  timeZone: string,
  nowMs: number,
  horizonDays: number,
): { from: IsoDate; to: IsoDate } {
  const today = localToday(timeZone, nowMs);
  return { from: addDays(today, -1), to: addDays(today, horizonDays) };
}

/** The effective nightly price: the night's override, else the room type's base price. */
export function effectivePrice(override: number | null, basePriceMinor: number | null) {
  return override ?? basePriceMinor;
}

/** Decide what changes. Pure: `stored` holds the ledger rows of the requested dates that exist. */
export function planCalendarUpdate(
  roomType: Pick<CalendarRoomType, "units" | "basePriceMinor">,
  stored: ReadonlyMap<IsoDate, StoredNight>,
  updates: readonly NightUpdate[],
): CalendarPlan {
  const writes: NightWrite[] = [];
  const availabilityChanged: IsoDate[] = [];
  const priceChanged: IsoDate[] = [];
  const conflicts: CalendarConflict[] = [];
  updates.forEach((u, index) => {
    const current = stored.get(u.date) ?? {
      night: u.date,
      capacity: roomType.units,
      booked: 0,
      blocked: 0,
      priceMinor: null,
    };
    const blocked = u.blocked ?? current.blocked;
    const priceMinor = u.priceMinor === undefined ? current.priceMinor : u.priceMinor;
    const blockedChanged = blocked !== current.blocked;
    const storedPriceChanged = priceMinor !== current.priceMinor;
    if (blockedChanged && current.booked + blocked > current.capacity) {
      conflicts.push({
        index,
        date: u.date,
        capacity: current.capacity,
        booked: current.booked,
        blocked,
      });
    }
    if (!blockedChanged && !storedPriceChanged) return;
    writes.push({
      date: u.date,
      blocked,
      priceMinor,
      blockedChanged,
      priceChanged: storedPriceChanged,
    });
    if (blockedChanged) availabilityChanged.push(u.date);
    if (
      effectivePrice(priceMinor, roomType.basePriceMinor) !==
      effectivePrice(current.priceMinor, roomType.basePriceMinor)
    ) {
      priceChanged.push(u.date);
    }
  });
  availabilityChanged.sort();
  priceChanged.sort();
  return { writes, availabilityChanged, priceChanged, conflicts };
}

/** The outbox ranges of a plan: coalesced runs of changed dates, per aspect. */
export function outboxRanges(
  plan: Pick<CalendarPlan, "availabilityChanged" | "priceChanged">,
): Array<{ range: DateRange; aspect: CalendarAspect }> {
  return [
    ...datesToRanges(plan.availabilityChanged).map((range) => ({
      range,
      aspect: "availability" as const,
    })),
    ...datesToRanges(plan.priceChanged).map((range) => ({ range, aspect: "price" as const })),
  ];
}

/** Nights that would hold more than their capacity; nothing of the request was applied. */
export class CalendarConflictError extends Error {
  override name = "CalendarConflictError";
  constructor(readonly conflicts: CalendarConflict[]) {
    super(
      `nights over capacity: ${conflicts
        .map(
          (c) => `${c.date} (booked ${c.booked} + blocked ${c.blocked} > capacity ${c.capacity})`,
        )
        .join(", ")}`,
    );
  }
}

/**
 * The ledger's CHECK refused the batch, yet a fresh plan finds no conflict (the night filled and
 * emptied again meanwhile): every night whose blocked units were to change is named, with the
 * values the plan was made from.
 */
export function blockedWritesAsConflicts(
  roomType: Pick<CalendarRoomType, "units">,
  stored: ReadonlyMap<IsoDate, StoredNight>,
  updates: readonly NightUpdate[],
  plan: Pick<CalendarPlan, "writes">,
): CalendarConflict[] {
  return plan.writes
    .filter((w) => w.blockedChanged)
    .map((w) => ({
      index: updates.findIndex((u) => u.date === w.date),
      date: w.date,
      capacity: stored.get(w.date)?.capacity ?? roomType.units,
      booked: stored.get(w.date)?.booked ?? 0,
      blocked: w.blocked,
    }));
}
