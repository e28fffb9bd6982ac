import { and, asc, eq, inArray, lt } from "drizzle-orm";
import type { DateRange } from "../domain/dates";
import { newId } from "../lib/ids";
import { d1Statement, orm } from "./db";
import { outbox } from "./schema/schema";

/**
 * outbox: "these nights changed" rows written in the same D1 batch as the change that causes
 * them, relayed to the outbound queue after commit (queue/outbox.ts). Reads and writes are Drizzle
 * builders; the writes come as D1 statements (d1Statement) because they ride in the caller's
 * all-or-nothing ledger batch (store/bookings.ts) or its closing batch, beside raw statements.
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
    out.push(d1Statement(db, orm(db).delete(outbox).where(inArray(outbox.id, chunk))));
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
    d1Statement(
      db,
      orm(db)
        .insert(outbox)
        .values({
          id: newId("obx"),
          tenantId: o.tenantId,
          propertyId: o.propertyId,
          roomTypeId: o.roomTypeId,
          startDate: r.start,
          endDate: r.end,
          sourcePlatform: o.sourcePlatform,
          includeSource: o.includeSource,
          causeKey: o.causeKey,
          aspect: "availability",
          createdAt: o.now,
        }),
    ),
  );
}
