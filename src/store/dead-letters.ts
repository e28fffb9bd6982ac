import { and, count, eq, gte, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import { orm } from "./db";
import { listPage, type Page, type PageRequest } from "./page";
import type { EventRow } from "./events";
import { channelConnections } from "./schema/channels.schema";
import { channelEvents as e, deadLetters as d } from "./schema/events.schema";

/**
 * dead_letters: stored by the dead-letter consumer with a message's whole context, listed and
 * resolved (retried, replayed, ignored) by operators. Every operator read and write is scoped by
 * the tenant; a dead letter never resolved to a tenant is only reachable through its event's key.
 */

export type DeadLetterRow = typeof d.$inferSelect;
export type Resolution = NonNullable<DeadLetterRow["resolution"]>;

/** The tenant's dead letter, or undefined (the caller 404s). */
export function ownDeadLetter(
  db: D1Database,
  tenantId: string,
  id: string,
): Promise<DeadLetterRow | undefined> {
  return orm(db)
    .select()
    .from(d)
    .where(and(eq(d.id, id), eq(d.tenantId, tenantId)))
    .get();
}

export interface DeadLetterFilters {
  resolved: boolean;
  queue?: string;
  platform?: string;
  connection_id?: string;
  property_id?: string;
  from?: number;
  to?: number;
}

/** A page of the tenant's dead letters by created_at. */
export function listDeadLetters(
  db: D1Database,
  tenantId: string,
  f: DeadLetterFilters,
  req: PageRequest,
): Promise<Page<DeadLetterRow>> {
  const q = orm(db);
  const ofProperty = q
    .select({ id: channelConnections.id })
    .from(channelConnections)
    .where(
      and(
        eq(channelConnections.propertyId, f.property_id ?? ""),
        eq(channelConnections.tenantId, tenantId),
      ),
    );
  // An outbound message names its property; the JSON is the stored message, read as it was kept.
  const outboundOf = sql`(${d.queue} = 'outbound' AND json_valid(${d.body}) AND json_extract(${d.body}, '$.propertyId') = ${f.property_id ?? ""})`;
  const where = and(
    eq(d.tenantId, tenantId),
    f.resolved ? isNotNull(d.resolvedAt) : isNull(d.resolvedAt),
    f.queue ? eq(d.queue, f.queue) : undefined,
    f.platform ? eq(d.platform, f.platform) : undefined,
    f.connection_id ? eq(d.connectionId, f.connection_id) : undefined,
    f.property_id ? or(inArray(d.connectionId, ofProperty), outboundOf) : undefined,
    f.from !== undefined ? gte(d.createdAt, f.from) : undefined,
    f.to !== undefined ? lt(d.createdAt, f.to) : undefined,
  );
  return listPage(
    req,
    { ts: d.createdAt, id: d.id, of: (r) => ({ ts: r.createdAt, id: r.id }) },
    (k) =>
      q
        .select()
        .from(d)
        .where(and(where, k.after))
        .orderBy(...k.orderBy)
        .limit(k.limit),
  );
}

/** Resolve one dead letter (compare-and-swap on resolved_at IS NULL); undefined if it already was. */
export function resolveDeadLetter(
  db: D1Database,
  tenantId: string,
  id: string,
  resolution: Resolution,
  note: string | null,
  now: number,
): Promise<DeadLetterRow | undefined> {
  return orm(db)
    .update(d)
    .set({ resolvedAt: now, resolution, resolutionNote: note })
    .where(and(eq(d.id, id), eq(d.tenantId, tenantId), isNull(d.resolvedAt)))
    .returning()
    .get();
}

/** Undo a retry's claim the queue refused (only the claim made at `resolvedAt`). */
export async function unresolveDeadLetter(
  db: D1Database,
  id: string,
  resolvedAt: number,
): Promise<void> {
  await orm(db)
    .update(d)
    .set({ resolvedAt: null, resolution: null, resolutionNote: null })
    .where(and(eq(d.id, id), eq(d.resolvedAt, resolvedAt), eq(d.resolution, "retried")));
}

/** D1 allows 100 bound parameters per statement: keys per resolve statement. */
export const KEY_CHUNK = 90;

/**
 * Mark the unresolved inbound dead letters of these events (by idempotency key, at most KEY_CHUNK)
 * resolved. A dead letter stored before its event resolved to a tenant has none yet.
 */
export function resolveDeadLettersOfStatement(
  db: D1Database,
  tenantId: string,
  keys: readonly string[],
  resolution: Resolution,
  note: string | null,
  now: number,
) {
  return orm(db)
    .update(d)
    .set({ resolvedAt: now, resolution, resolutionNote: note })
    .where(
      and(
        eq(d.queue, "inbound"),
        isNull(d.resolvedAt),
        or(eq(d.tenantId, tenantId), isNull(d.tenantId)),
        inArray(d.idempotencyKey, [...keys]),
      ),
    );
}

/** resolveDeadLettersOfStatement for any number of keys, in one D1 batch. */
export async function resolveDeadLettersOf(
  db: D1Database,
  tenantId: string,
  keys: readonly string[],
  resolution: Resolution,
  note: string | null,
  now: number,
): Promise<void> {
  const statements = [];
  for (let i = 0; i < keys.length; i += KEY_CHUNK) {
    const chunk = keys.slice(i, i + KEY_CHUNK);
    statements.push(resolveDeadLettersOfStatement(db, tenantId, chunk, resolution, note, now));
  }
  const [first, ...rest] = statements;
  if (!first) return;
  if (rest.length === 0) await first;
  else await orm(db).batch([first, ...rest]);
}

// ---------------------------------------------------------------------------------------------
// The dead-letter consumer.

export interface StoredDeadLetter {
  id: string;
  queue: "inbound" | "outbound";
  messageId: string;
  tenantId: string | null;
  connectionId: string | null;
  platform: string | null;
  idempotencyKey: string | null;
  body: string;
  error: string;
  attempts: number;
  attemptLog: string;
  createdAt: number;
}

/**
 * Store a dead letter once per (queue, message id). A raw statement: it is the first of the
 * consumer's one all-or-nothing batch beside the alert and the sync-log transition whose
 * `meta.changes` it checks (its own `meta.changes` says whether this copy was the first).
 */
export function storeDeadLetterStatement(db: D1Database, l: StoredDeadLetter): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO dead_letters (id, queue, message_id, tenant_id, connection_id, platform, idempotency_key,
         body, error, attempts, attempt_log, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(queue, message_id) DO NOTHING`,
    )
    .bind(
      l.id,
      l.queue,
      l.messageId,
      l.tenantId,
      l.connectionId,
      l.platform,
      l.idempotencyKey,
      l.body,
      l.error,
      l.attempts,
      l.attemptLog,
      l.createdAt,
    );
}

export type DeadEventContext = Pick<
  EventRow,
  "tenantId" | "connectionId" | "platform" | "attempts" | "lastError" | "attemptLog"
>;

/** The event a dead letter belongs to, by its (unique) key, whichever tenant it resolved to. */
export function eventOfKey(db: D1Database, key: string): Promise<DeadEventContext | undefined> {
  return orm(db)
    .select({
      tenantId: e.tenantId,
      connectionId: e.connectionId,
      platform: e.platform,
      attempts: e.attempts,
      lastError: e.lastError,
      attemptLog: e.attemptLog,
    })
    .from(e)
    .where(eq(e.idempotencyKey, key))
    .get();
}

/**
 * The dead-lettered event left `failed` and its webhook log row with it. Raw statements: they ride
 * in the dead-letter consumer's one all-or-nothing batch beside the alert and the sync-log
 * transition whose `meta.changes` it checks, which a Drizzle batch cannot hold.
 */
export function failDeadEventStatements(
  db: D1Database,
  key: string,
  error: string,
  now: number,
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `UPDATE channel_events SET status = 'failed', last_error = ?, lease_until = NULL, updated_at = ?
         WHERE idempotency_key = ? AND status NOT IN ('done', 'ignored')`,
      )
      .bind(error, now, key),
    db
      .prepare(
        `UPDATE webhook_log SET status = 'failed', error = ?, processed_at = ? WHERE id = ? AND status = 'pending'`,
      )
      .bind(error, now, key),
  ];
}

/** Unresolved dead letters of the tenant, or of every tenant (null). */
export async function unresolvedCount(db: D1Database, tenantId: string | null): Promise<number> {
  const row = await orm(db)
    .select({ n: count() })
    .from(d)
    .where(and(tenantId === null ? undefined : eq(d.tenantId, tenantId), isNull(d.resolvedAt)))
    .get();
  return row?.n ?? 0;
}

/** Whether D1 answers at all (a query touching no table). */
export async function d1Answers(db: D1Database): Promise<void> {
  await orm(db).get(sql`SELECT 1`);
}
