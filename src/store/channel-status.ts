import { and, asc, count, eq, gte, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import { orm } from "./db";
import {
  channelConnections as c,
  channelEvents as e,
  channelMappings as m,
  deadLetters as d,
  ratePlans,
  roomTypes,
} from "./schema/schema";
import type { ConnectionRecord } from "./connections";

/**
 * The reads behind a property's channel status: its live connections, then one batch of counts
 * over their events, dead letters and mappings. The connection ids are read under the tenant, so
 * the counts keyed by them cannot reach another tenant's rows.
 */

export type StatusConnection = Pick<
  ConnectionRecord,
  "id" | "platform" | "status" | "lastWebhookAt" | "lastOutboundSuccessAt" | "lastError"
>;

/** The property's live connections, oldest first. */
export function liveConnectionsOfProperty(
  db: D1Database,
  tenantId: string,
  propertyId: string,
): Promise<StatusConnection[]> {
  return orm(db)
    .select({
      id: c.id,
      platform: c.platform,
      status: c.status,
      lastWebhookAt: c.lastWebhookAt,
      lastOutboundSuccessAt: c.lastOutboundSuccessAt,
      lastError: c.lastError,
    })
    .from(c)
    .where(and(eq(c.propertyId, propertyId), eq(c.tenantId, tenantId), isNull(c.deletedAt)))
    .orderBy(asc(c.createdAt), asc(c.id));
}

export interface EventCounts {
  failed24h: number;
  queued: number;
  unmapped: number;
}

export interface StatusCounts {
  roomTypes: number;
  ratePlans: number;
  events: Map<string, EventCounts>;
  deadLettered: Map<string, number>;
  /** Per connection: its live, platform-confirmed mappings' internal ids, by type. */
  mappedRoomTypes: Map<string, Set<string>>;
  mappedRatePlans: Map<string, Set<string>>;
}

const QUEUED = ["received", "processing", "retrying"] as const;

type Q = ReturnType<typeof orm>;
const when = (cond: SQL | undefined) =>
  sql<number | null>`sum(CASE WHEN ${cond} THEN 1 ELSE 0 END)`;

function ofProperty(t: typeof roomTypes | typeof ratePlans, tenantId: string, propertyId: string) {
  return and(eq(t.propertyId, propertyId), eq(t.tenantId, tenantId));
}

function eventCounts(q: Q, connectionIds: string[], failedSince: number) {
  return q
    .select({
      connectionId: e.connectionId,
      failed24h: when(and(eq(e.status, "failed"), gte(e.updatedAt, failedSince))),
      queued: when(inArray(e.status, QUEUED)),
      unmapped: when(eq(e.status, "unmapped")),
    })
    .from(e)
    .where(
      and(
        inArray(e.connectionId, connectionIds),
        inArray(e.status, ["failed", ...QUEUED, "unmapped"]),
      ),
    )
    .groupBy(e.connectionId);
}

/**
 * Live, platform-confirmed mappings (what syncs) whose internal id really is one of this
 * property's room types / rate plans.
 */
function confirmedMappings(q: Q, tenantId: string, propertyId: string, connectionIds: string[]) {
  const idsOf = (t: typeof roomTypes | typeof ratePlans) =>
    q
      .select({ id: t.id })
      .from(t)
      .where(ofProperty(t, tenantId, propertyId));
  return q
    .select({ connectionId: m.connectionId, mappingType: m.mappingType, internalId: m.internalId })
    .from(m)
    .where(
      and(
        inArray(m.connectionId, connectionIds),
        eq(m.tenantId, tenantId),
        isNull(m.deletedAt),
        eq(m.status, "confirmed"),
        or(
          and(eq(m.mappingType, "room_type"), inArray(m.internalId, idsOf(roomTypes))),
          and(eq(m.mappingType, "rate_plan"), inArray(m.internalId, idsOf(ratePlans))),
        ),
      ),
    );
}

function byConnection(
  rows: Array<{ connectionId: string; mappingType: string; internalId: string }>,
) {
  const mappedRoomTypes = new Map<string, Set<string>>();
  const mappedRatePlans = new Map<string, Set<string>>();
  for (const row of rows) {
    const into = row.mappingType === "room_type" ? mappedRoomTypes : mappedRatePlans;
    const set = into.get(row.connectionId) ?? new Set<string>();
    set.add(row.internalId);
    into.set(row.connectionId, set);
  }
  return { mappedRoomTypes, mappedRatePlans };
}

/** One batch: the property's totals and, per connection, its event, dead-letter and mapping counts. */
export async function statusCounts(
  db: D1Database,
  tenantId: string,
  propertyId: string,
  connectionIds: string[],
  failedSince: number,
): Promise<StatusCounts> {
  const q = orm(db);
  const [rooms, plans, events, dead, mappings] = await q.batch([
    q
      .select({ n: count() })
      .from(roomTypes)
      .where(ofProperty(roomTypes, tenantId, propertyId)),
    q
      .select({ n: count() })
      .from(ratePlans)
      .where(ofProperty(ratePlans, tenantId, propertyId)),
    eventCounts(q, connectionIds, failedSince),
    q
      .select({ connectionId: d.connectionId, n: count() })
      .from(d)
      .where(and(inArray(d.connectionId, connectionIds), isNull(d.resolvedAt)))
      .groupBy(d.connectionId),
    confirmedMappings(q, tenantId, propertyId, connectionIds),
  ]);
  const counts = (r: (typeof events)[number]) => ({
    failed24h: r.failed24h ?? 0,
    queued: r.queued ?? 0,
    unmapped: r.unmapped ?? 0,
  });
  return {
    roomTypes: rooms[0]?.n ?? 0,
    ratePlans: plans[0]?.n ?? 0,
    events: new Map(events.map((r) => [r.connectionId ?? "", counts(r)])),
    deadLettered: new Map(dead.map((r) => [r.connectionId ?? "", r.n])),
    ...byConnection(mappings),
  };
}
