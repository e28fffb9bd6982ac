import { and, asc, eq, lt } from "drizzle-orm";
import type { DateRange } from "../domain/dates";
import { newId } from "../lib/ids";
import { orm } from "./db";
import { outbox } from "./schema/schema";

/**
 * outbox: "these nights changed" rows written in the same D1 batch as the change that causes
 * them, relayed to the outbound queue after commit (queue/outbox.ts). Reads are Drizzle builders;
 * the writes are raw D1 statements because they ride in the caller's all-or-nothing ledger batch
 * (store/bookings.ts) or its closing batch, beside other raw statements.
 */

export type OutboxRow = typeof outbox.$inferSelect;

// D1 binds at most 100 parameters per statement.
const IDS_PER_DELETE = 90;

/** The rows one event (or request) wrote. */
export function outboxOfCause(db: D1Database, causeKey: string): Promise<OutboxRow[]> {
  return orm(db).select().from(outbox).where(eq(outbox.causeKey, causeKey));
}

/** The oldest rows of one room type, whoever wrote them. */
export function outboxOfRoomType(
  db: D1Database,
  tenantId: string,
  roomTypeId: string,
  limit: number,
): Promise<OutboxRow[]> {
  return orm(db)
    .select()
    .from(outbox)
    .where(and(eq(outbox.tenantId, tenantId), eq(outbox.roomTypeId, roomTypeId)))
    .orderBy(asc(outbox.createdAt))
    .limit(limit);
}

/** The oldest rows written before `before` (left behind by a relay that never ran). */
export function staleOutbox(db: D1Database, before: number, limit: number): Promise<OutboxRow[]> {
  return orm(db)
    .select()
    .from(outbox)
    .where(lt(outbox.createdAt, before))
    .orderBy(asc(outbox.createdAt))
    .limit(limit);
}

/** Statements deleting relayed rows. */
export function deleteRelayed(db: D1Database, ids: string[]): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_DELETE) {
    const chunk = ids.slice(i, i + IDS_PER_DELETE);
    out.push(
      db
        .prepare(`DELETE FROM outbox WHERE id IN (${chunk.map(() => "?").join(",")})`)
        .bind(...chunk),
    );
  }
  return out;
}

export interface OutboxInsert {
  tenantId: string;
  propertyId: string;
  roomTypeId: string;
  ranges: DateRange[];
  sourcePlatform: string | null;
  includeSource: boolean;
  causeKey: string;
  now: number;
}

/** One availability row per range, for the caller's batch. */
export function outboxStatements(db: D1Database, o: OutboxInsert): D1PreparedStatement[] {
  return o.ranges.map((r) =>
    db
      .prepare(
        `INSERT INTO outbox (id, tenant_id, property_id, room_type_id, start_date, end_date, source_platform, include_source, cause_key, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        newId("obx"),
        o.tenantId,
        o.propertyId,
        o.roomTypeId,
        r.start,
        r.end,
        o.sourcePlatform,
        o.includeSource ? 1 : 0,
        o.causeKey,
        o.now,
      ),
  );
}
