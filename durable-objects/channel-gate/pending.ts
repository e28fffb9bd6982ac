import { expandRanges } from "../../src/domain/date-ranges";
import { addDays, type DateRange } from "../../src/domain/dates";
import type { NightAspect } from "../../src/platforms/contract";
import { NIGHT_ASPECTS } from "../../src/queue/messages";
import type { PendingClass } from "./flush-plan";
import { addColumn, type GateStorage, type MigrationStep } from "./storage";

export interface MarkDirtyInput {
  tenantId: string;
  connectionId: string;
  roomTypeId: string;
  ranges: DateRange[];
  /** What changed on these nights; both when absent. */
  aspects?: NightAspect[];
  causeKey: string;
  changedAt: number;
  /**
   * Send these nights even if the platform already has their current values from this gate
   * (drift repair, an operator's resync); otherwise an unchanged value is not sent again.
   */
  force?: boolean;
  /**
   * A booking (or a conflict) changed these nights' availability: they go out before any other
   * push, on tokens bulk pushes leave (a hold will mark its nights the same way). Kept per night
   * as the most urgent of its marks until a push carries it.
   */
  urgent?: boolean;
}

export interface PendingNight extends Record<string, SqlStorageValue> {
  night: string;
  seq: number;
  forced: number;
}

const STEPS: readonly MigrationStep[] = [
  (sql) => {
    sql.exec(`CREATE TABLE IF NOT EXISTS pending_nights (
      room_type_id TEXT NOT NULL, night TEXT NOT NULL, aspect TEXT NOT NULL,
      seq INTEGER NOT NULL, marked_at INTEGER NOT NULL, forced INTEGER NOT NULL DEFAULT 0,
      urgent INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (room_type_id, night, aspect))`);
    // Builds before these columns created the table without them.
    addColumn(sql, "pending_nights", "forced", "INTEGER NOT NULL DEFAULT 0");
    addColumn(sql, "pending_nights", "urgent", "INTEGER NOT NULL DEFAULT 0");
  },
];

/** Pending work of one kind (see CLASSES in flush-plan.ts), as SQL over pending_nights. */
function whereOf(c: PendingClass): string {
  return c.aspect === "price"
    ? `aspect = 'price'`
    : `aspect = 'availability' AND urgent = ${c.urgent ? 1 : 0}`;
}

/**
 * Nights whose platform copy is out of date: (room type, night, aspect), marked level-triggered
 * (a mark records that something changed, never what), with the seq of the latest mark so a push
 * clears only nights not marked again while it was out. `seq`, `pending_since` and `last_mark_at`
 * in meta are this part's: the counter and the coalescing window's ends.
 */
export class PendingNights {
  private readonly sql: SqlStorage;

  constructor(private readonly storage: GateStorage) {
    storage.migrate("pending_nights", STEPS);
    this.sql = storage.sql;
  }

  /** Record the marks (idempotent); how many (night, aspect) pairs fell inside the horizon. */
  mark(input: MarkDirtyInput, now: number, horizonDays: number): number {
    // Loose UTC bounds here; the flush applies the property's local "today".
    const today = new Date(now).toISOString().slice(0, 10);
    const horizon = addDays(today, horizonDays + 1);
    const seq = this.seq() + 1;
    this.storage.set("seq", seq);
    const aspects = input.aspects?.length ? input.aspects : NIGHT_ASPECTS;
    let marked = 0;
    for (const night of expandRanges(input.ranges)) {
      if (night < addDays(today, -1) || night > horizon) continue;
      for (const aspect of aspects) {
        marked += 1;
        this.sql.exec(
          `INSERT INTO pending_nights (room_type_id, night, aspect, seq, marked_at, forced, urgent)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(room_type_id, night, aspect) DO UPDATE SET seq = excluded.seq,
             marked_at = excluded.marked_at, forced = max(forced, excluded.forced),
             urgent = max(urgent, excluded.urgent)`,
          input.roomTypeId,
          night,
          aspect,
          seq,
          now,
          input.force ? 1 : 0,
          input.urgent ? 1 : 0,
        );
      }
    }
    return marked;
  }

  /** Marks arrived at `now`: the coalescing window opens (unless open) and its quiet time restarts. */
  noteMarked(now: number): void {
    this.openWindow(now);
    this.storage.set("last_mark_at", now);
  }

  /** The latest mark's seq: marks after it are newer than anything read before. */
  seq(): number {
    return this.storage.num("seq") ?? 0;
  }

  count(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM pending_nights`).one().n;
  }

  /** Marks made after `seq`. */
  countSince(seq: number): number {
    return this.sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM pending_nights WHERE seq > ?`, seq)
      .one().n;
  }

  /** Start the coalescing window at `now` unless one is open. */
  openWindow(now: number): void {
    if (this.storage.get("pending_since") === null) this.storage.set("pending_since", now);
  }

  closeWindow(): void {
    this.storage.set("pending_since", null);
  }

  /** Room types with urgent availability pending. */
  urgentRoomTypes(): string[] {
    return this.sql
      .exec<{ id: string }>(
        `SELECT DISTINCT room_type_id AS id FROM pending_nights WHERE urgent = 1 AND aspect = 'availability'`,
      )
      .toArray()
      .map((r) => r.id);
  }

  /** "roomType|aspect" groups with nights pending. */
  groups(): Set<string> {
    return new Set(
      this.sql
        .exec<{ g: string }>(
          `SELECT DISTINCT room_type_id || '|' || aspect AS g FROM pending_nights`,
        )
        .toArray()
        .map((r) => r.g),
    );
  }

  /** Pending rows counted by group and urgency. */
  tally(): Array<{ room_type_id: string; aspect: string; urgent: number; n: number }> {
    return this.sql
      .exec<{ room_type_id: string; aspect: string; urgent: number; n: number }>(
        `SELECT room_type_id, aspect, urgent, count(*) AS n FROM pending_nights
         GROUP BY room_type_id, aspect, urgent`,
      )
      .toArray();
  }

  /** Every pending row, for the status, in group and night order. */
  all(): Array<{ room_type_id: string; night: string; aspect: NightAspect }> {
    return this.sql
      .exec<{ room_type_id: string; night: string; aspect: NightAspect }>(
        `SELECT room_type_id, night, aspect FROM pending_nights ORDER BY room_type_id, aspect, night`,
      )
      .toArray();
  }

  /** Room types with pending nights, of one kind when given. */
  roomTypes(of?: PendingClass): string[] {
    const where = of ? ` WHERE ${whereOf(of)}` : "";
    return this.sql
      .exec<{ id: string }>(
        `SELECT DISTINCT room_type_id AS id FROM pending_nights${where} ORDER BY id`,
      )
      .toArray()
      .map((r) => r.id);
  }

  /** One room type's pending nights of one kind, in night order. */
  nights(roomTypeId: string, of: PendingClass): PendingNight[] {
    return this.sql
      .exec<PendingNight>(
        `SELECT night, seq, forced FROM pending_nights WHERE room_type_id = ? AND ${whereOf(of)} ORDER BY night`,
        roomTypeId,
      )
      .toArray();
  }

  /** A pending night is done, unless it was marked again meanwhile (its seq moved on). */
  clear(roomTypeId: string, night: string, aspect: NightAspect, seq: number): void {
    this.sql.exec(
      `DELETE FROM pending_nights WHERE room_type_id = ? AND night = ? AND aspect = ? AND seq = ?`,
      roomTypeId,
      night,
      aspect,
      seq,
    );
  }

  clearRoomType(roomTypeId: string): void {
    this.sql.exec(`DELETE FROM pending_nights WHERE room_type_id = ?`, roomTypeId);
  }

  clearAll(): void {
    this.sql.exec(`DELETE FROM pending_nights`);
  }

  /** Nights before `today` (the property's): they can no longer be sold. */
  dropBefore(today: string): void {
    this.sql.exec(`DELETE FROM pending_nights WHERE night < ?`, today);
  }
}
