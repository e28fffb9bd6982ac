import type { NightAspect } from "../../src/platforms/contract";
import type { GateStorage, MigrationStep } from "./storage";

const STEPS: readonly MigrationStep[] = [
  (sql) =>
    sql.exec(`CREATE TABLE IF NOT EXISTS pushed_nights (
      room_type_id TEXT NOT NULL, night TEXT NOT NULL, aspect TEXT NOT NULL,
      value TEXT NOT NULL, pushed_at INTEGER NOT NULL,
      PRIMARY KEY (room_type_id, night, aspect))`),
];

/**
 * What this gate last sent per night and aspect (pushedValue in flush-plan.ts), and when: a mark
 * whose night still has that value is done without a call. Trusted only for a while (the flush
 * expires old rows) and forgotten when a request carrying the night failed.
 */
export class PushedNights {
  private readonly sql: SqlStorage;

  constructor(storage: GateStorage) {
    storage.migrate("pushed_nights", STEPS);
    this.sql = storage.sql;
  }

  /** Night → value last sent, for one room type and aspect. */
  values(roomTypeId: string, aspect: NightAspect): Map<string, string> {
    return new Map(
      this.sql
        .exec<{ night: string; value: string }>(
          `SELECT night, value FROM pushed_nights WHERE room_type_id = ? AND aspect = ?`,
          roomTypeId,
          aspect,
        )
        .toArray()
        .map((p) => [p.night, p.value]),
    );
  }

  remember(roomTypeId: string, night: string, aspect: NightAspect, value: string, at: number) {
    this.sql.exec(
      `INSERT INTO pushed_nights (room_type_id, night, aspect, value, pushed_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(room_type_id, night, aspect) DO UPDATE SET value = excluded.value, pushed_at = excluded.pushed_at`,
      roomTypeId,
      night,
      aspect,
      value,
      at,
    );
  }

  /** The platform may or may not have applied a failed request: trust nothing about its nights. */
  forget(roomTypeId: string, night: string, aspect: NightAspect): void {
    this.sql.exec(
      `DELETE FROM pushed_nights WHERE room_type_id = ? AND night = ? AND aspect = ?`,
      roomTypeId,
      night,
      aspect,
    );
  }

  /** Past nights, and values sent longer ago than `trustedSince`. */
  expire(today: string, trustedSince: number): void {
    this.sql.exec(
      `DELETE FROM pushed_nights WHERE night < ? OR pushed_at < ?`,
      today,
      trustedSince,
    );
  }
}
