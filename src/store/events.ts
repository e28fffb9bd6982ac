import {
  and,
  asc,
  count,
  desc,
  eq,
  getTableColumns,
  gte,
  inArray,
  isNull,
  lt,
  ne,
  or,
  sql,
  type SQL,
} from "drizzle-orm";
import { orm } from "./db";
import { listPage, type Page, type PageRequest } from "./page";
import { bookingChanges, bookings } from "./schema/bookings.schema";
import type { Platform } from "./schema/channels.schema";
import {
  channelEvents as e,
  deadLetters as d,
  webhookLog as w,
  type EventStatus,
} from "./schema/events.schema";

/**
 * channel_events as the operator API and the dead-letter consumer read and write it (the inbound
 * consumer's own writes are in store/event-log.ts), and the webhook_log bodies an event is rebuilt
 * from. Every read the API answers with is scoped by the tenant; an event never resolved to a
 * tenant (tenant_id NULL) is invisible to it.
 */

const { deliveryIds: _deliveryIds, ...EVENT_COLUMNS } = getTableColumns(e);
/** A channel_events row without delivery_ids (the consumer's bookkeeping, never shown). */
export type EventRow = Omit<typeof e.$inferSelect, "deliveryIds">;

/** The tenant's event, or undefined (the caller 404s). */
export function ownEvent(
  db: D1Database,
  tenantId: string,
  id: string,
): Promise<EventRow | undefined> {
  return orm(db)
    .select(EVENT_COLUMNS)
    .from(e)
    .where(and(eq(e.id, id), eq(e.tenantId, tenantId)))
    .get();
}

/** The id of the tenant's event with this idempotency key, if one was recorded. */
export async function eventIdByKey(
  db: D1Database,
  tenantId: string,
  key: string,
): Promise<string | null> {
  const row = await orm(db)
    .select({ id: e.id })
    .from(e)
    .where(and(eq(e.idempotencyKey, key), eq(e.tenantId, tenantId)))
    .get();
  return row?.id ?? null;
}

export interface EventChange {
  booking_id: string;
  channel_booking_id: string;
  outcome: string;
  status: string;
  check_in: string;
  check_out: string;
  channel_revision: number;
  at: number;
}

export interface EventContext {
  payload: string | null;
  deadLetters: Array<Pick<typeof d.$inferSelect, "id" | "createdAt" | "resolvedAt" | "resolution">>;
  changes: EventChange[];
}

/** The booking changes the event with this key applied, in whichever attempt. */
function changesOf(db: D1Database, key: string, tenantId: string) {
  return orm(db)
    .select({
      booking_id: bookingChanges.bookingId,
      channel_booking_id: bookings.channelBookingId,
      outcome: bookingChanges.outcome,
      status: bookingChanges.status,
      check_in: bookingChanges.checkIn,
      check_out: bookingChanges.checkOut,
      channel_revision: bookingChanges.channelRevision,
      at: bookingChanges.createdAt,
    })
    .from(bookingChanges)
    .innerJoin(
      bookings,
      and(
        eq(bookings.id, bookingChanges.bookingId),
        eq(bookings.tenantId, bookingChanges.tenantId),
      ),
    )
    .where(and(eq(bookingChanges.eventKey, key), eq(bookingChanges.tenantId, tenantId)))
    .orderBy(asc(bookingChanges.createdAt), asc(bookingChanges.id))
    .limit(100);
}

/** What an event's detail shows beside it, in one D1 batch: its body, dead letters, changes. */
export async function eventContext(
  db: D1Database,
  r: Pick<EventRow, "eventType" | "idempotencyKey" | "platform" | "tenantId">,
  pullEventType: string,
): Promise<EventContext> {
  const q = orm(db);
  const tenantId = r.tenantId ?? "";
  const [payload, dead, changes] = await q.batch([
    q
      .select({ payload: w.payload })
      .from(w)
      .where(
        and(
          eq(w.id, r.eventType === pullEventType ? "" : r.idempotencyKey),
          eq(w.platform, r.platform),
        ),
      )
      .limit(1),
    // The key is this event's own (unique across tenants); a dead letter stored before the event
    // resolved to a tenant has none yet.
    q
      .select({
        id: d.id,
        createdAt: d.createdAt,
        resolvedAt: d.resolvedAt,
        resolution: d.resolution,
      })
      .from(d)
      .where(
        and(
          eq(d.queue, "inbound"),
          eq(d.idempotencyKey, r.idempotencyKey),
          or(eq(d.tenantId, tenantId), isNull(d.tenantId)),
        ),
      )
      .orderBy(desc(d.createdAt))
      .limit(20),
    changesOf(db, r.idempotencyKey, tenantId),
  ]);
  return { payload: payload[0]?.payload ?? null, deadLetters: dead, changes };
}

/** The filters the event list and the batch retry share; every one is bound, never spliced. */
export interface EventFilters {
  status?: EventStatus;
  booking_id?: string;
  property_id?: string;
  connection_id?: string;
  platform?: Platform;
  event_type?: string;
  direction?: "inbound" | "outbound";
  from?: number;
  to?: number;
}

function eventWhere(db: D1Database, tenantId: string, f: EventFilters): SQL | undefined {
  const changed = orm(db)
    .select({ key: bookingChanges.eventKey })
    .from(bookingChanges)
    .where(
      and(eq(bookingChanges.bookingId, f.booking_id ?? ""), eq(bookingChanges.tenantId, tenantId)),
    );
  return and(
    eq(e.tenantId, tenantId),
    f.status ? eq(e.status, f.status) : undefined,
    f.booking_id ? inArray(e.idempotencyKey, changed) : undefined,
    f.property_id ? eq(e.propertyId, f.property_id) : undefined,
    f.connection_id ? eq(e.connectionId, f.connection_id) : undefined,
    f.platform ? eq(e.platform, f.platform) : undefined,
    f.event_type ? eq(e.eventType, f.event_type) : undefined,
    f.direction ? eq(e.direction, f.direction) : undefined,
    f.from !== undefined ? gte(e.receivedAt, f.from) : undefined,
    f.to !== undefined ? lt(e.receivedAt, f.to) : undefined,
  );
}

/** A page of the tenant's events, by received_at or updated_at (the cursor belongs to one). */
export function listEvents(
  db: D1Database,
  tenantId: string,
  f: EventFilters,
  req: PageRequest,
  sort: "received_at" | "updated_at",
): Promise<Page<EventRow>> {
  const ts = sort === "updated_at" ? e.updatedAt : e.receivedAt;
  const tsOf = (r: EventRow) => (sort === "updated_at" ? r.updatedAt : r.receivedAt);
  return listPage(req, { ts, id: e.id, of: (r) => ({ ts: tsOf(r), id: r.id }) }, (k) =>
    orm(db)
      .select(EVENT_COLUMNS)
      .from(e)
      .where(and(eventWhere(db, tenantId, f), k.after))
      .orderBy(...k.orderBy)
      .limit(k.limit),
  );
}

/** How many events match, and the oldest `limit + 1` of them, in one D1 batch. */
export async function countAndPickEvents(
  db: D1Database,
  tenantId: string,
  f: EventFilters,
  limit: number,
): Promise<{ matched: number; picked: EventRow[] }> {
  const q = orm(db);
  const where = eventWhere(db, tenantId, f);
  const [counted, picked] = await q.batch([
    q.select({ n: count() }).from(e).where(where),
    q
      .select(EVENT_COLUMNS)
      .from(e)
      .where(where)
      .orderBy(asc(e.receivedAt), asc(e.id))
      .limit(limit + 1),
  ]);
  return { matched: counted[0]?.n ?? 0, picked };
}

/** An event in one of these may be retried (sent again through the inbound queue). */
export const RETRYABLE = ["failed", "retrying", "unmapped"] as const satisfies EventStatus[];
/** An event in one of these may be ignored: not while a consumer works on it, not once applied. */
export const IGNORABLE = [
  "received",
  "retrying",
  "failed",
  "unmapped",
] as const satisfies EventStatus[];

const RESET = { status: "received", attempts: 0, leaseUntil: null } as const;

/**
 * Compare-and-swap the tenant's event back to `received` with attempts 0: a retry only from a
 * retryable state, a replay from any state but a live `processing` (a consumer may have moved it
 * since it was read). Undefined when the state no longer allows it.
 */
export function resetEvent(
  db: D1Database,
  tenantId: string,
  id: string,
  mode: "retry" | "replay",
  now: number,
): Promise<EventRow | undefined> {
  const from =
    mode === "retry"
      ? inArray(e.status, RETRYABLE)
      : or(ne(e.status, "processing"), lt(sql`COALESCE(${e.leaseUntil}, 0)`, now));
  return orm(db)
    .update(e)
    .set({ ...RESET, updatedAt: now })
    .where(and(eq(e.id, id), eq(e.tenantId, tenantId), from))
    .returning(EVENT_COLUMNS)
    .get();
}

/** D1 allows 100 bound parameters per statement. */
export const ID_CHUNK = 90;

/** resetEvent (retry) for many of the tenant's events, in one D1 batch; the rows it reset. */
export async function resetEvents(
  db: D1Database,
  tenantId: string,
  ids: readonly string[],
  now: number,
): Promise<EventRow[]> {
  const q = orm(db);
  const statements = [];
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    statements.push(
      q
        .update(e)
        .set({ ...RESET, updatedAt: now })
        .where(
          and(
            eq(e.tenantId, tenantId),
            inArray(e.status, RETRYABLE),
            inArray(e.id, ids.slice(i, i + ID_CHUNK)),
          ),
        )
        .returning(EVENT_COLUMNS),
    );
  }
  const [first, ...rest] = statements;
  return first ? (await q.batch([first, ...rest])).flat() : [];
}

export type EventBefore = Pick<EventRow, "id" | "status" | "attempts" | "leaseUntil" | "updatedAt">;

function restoreStatement(db: D1Database, before: EventBefore, resetAt: number) {
  return orm(db)
    .update(e)
    .set({
      status: before.status,
      attempts: before.attempts,
      leaseUntil: before.leaseUntil,
      updatedAt: before.updatedAt,
    })
    .where(and(eq(e.id, before.id), eq(e.status, "received"), eq(e.updatedAt, resetAt)));
}

/** Put reset events back as they were, unless something moved them since (the queue refused). */
export async function restoreEvents(
  db: D1Database,
  before: readonly EventBefore[],
  resetAt: number,
): Promise<void> {
  const [first, ...rest] = before.map((b) => restoreStatement(db, b, resetAt));
  if (!first) return;
  if (rest.length === 0) await first;
  else await orm(db).batch([first, ...rest]);
}

/** Ignore the tenant's event from an ignorable state (compare-and-swap); undefined otherwise. */
export function ignoreEvent(
  db: D1Database,
  tenantId: string,
  id: string,
  outcome: string,
  now: number,
): Promise<EventRow | undefined> {
  return orm(db)
    .update(e)
    .set({
      status: "ignored",
      outcome,
      leaseUntil: null,
      processedAt: sql`COALESCE(${e.processedAt}, ${now})`,
      updatedAt: now,
    })
    .where(and(eq(e.id, id), eq(e.tenantId, tenantId), inArray(e.status, IGNORABLE)))
    .returning(EVENT_COLUMNS)
    .get();
}

/** Ignore the tenant's event with this key if the dead-letter consumer left it failed. */
export async function ignoreFailedEventByKey(
  db: D1Database,
  tenantId: string,
  key: string,
  outcome: string,
  now: number,
): Promise<void> {
  await orm(db)
    .update(e)
    .set({ status: "ignored", outcome, leaseUntil: null, updatedAt: now })
    .where(and(eq(e.idempotencyKey, key), eq(e.tenantId, tenantId), eq(e.status, "failed")));
}
