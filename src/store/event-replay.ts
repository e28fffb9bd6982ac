import { and, asc, eq, inArray, isNull, ne, or, sql } from "drizzle-orm";
import { orm } from "./db";
import type { EventRow } from "./events";
import type { Platform } from "./schema/channels.schema";
import { channelEvents as e, webhookLog as w } from "./schema/events.schema";

/**
 * The reads an inbound message is rebuilt from (an event's kept webhook body) and the unmapped
 * events a new mapping replays. Split from store/events.ts by size; the same table family.
 */

/** The channel_events columns a message is rebuilt from. */
export type EventForRepublish = Pick<
  EventRow,
  | "id"
  | "tenantId"
  | "connectionId"
  | "platform"
  | "direction"
  | "eventType"
  | "idempotencyKey"
  | "entityExternalId"
  | "receivedAt"
>;

export type WebhookBodyRow = Pick<
  typeof w.$inferSelect,
  "id" | "eventId" | "payload" | "signature" | "receivedAt"
>;

/** The kept webhook bodies with these keys (at most ID_CHUNK per call). */
export function webhookBodies(db: D1Database, keys: readonly string[]): Promise<WebhookBodyRow[]> {
  return orm(db)
    .select({
      id: w.id,
      eventId: w.eventId,
      payload: w.payload,
      signature: w.signature,
      receivedAt: w.receivedAt,
    })
    .from(w)
    .where(inArray(w.id, [...keys]));
}

/**
 * Webhooks kept `unmapped` that named this listing (or this connection's hotel) and still have
 * their body: they carry no tenant yet, and those resolved to another tenant are never touched.
 */
export function unmappedWebhookEvents(
  db: D1Database,
  m: { tenantId: string; platform: Platform; externalIds: [string, string] },
  pullEventType: string,
  limit: number,
): Promise<EventForRepublish[]> {
  const q = orm(db);
  return q
    .select({
      id: e.id,
      tenantId: e.tenantId,
      connectionId: e.connectionId,
      platform: e.platform,
      direction: e.direction,
      eventType: e.eventType,
      idempotencyKey: e.idempotencyKey,
      entityExternalId: e.entityExternalId,
      receivedAt: e.receivedAt,
    })
    .from(e)
    .where(
      and(
        eq(e.status, "unmapped"),
        eq(e.platform, m.platform),
        inArray(e.entityExternalId, m.externalIds),
        or(isNull(e.tenantId), eq(e.tenantId, m.tenantId)),
        ne(e.eventType, pullEventType),
        sql`EXISTS (SELECT 1 FROM ${w} WHERE ${w.id} = ${e.idempotencyKey})`,
      ),
    )
    .orderBy(asc(e.receivedAt))
    .limit(limit);
}

/** The connection's unmapped pulls, superseded by a fresh pull. */
export async function supersedeUnmappedPulls(
  db: D1Database,
  connectionId: string,
  pullEventType: string,
  outcome: string,
  now: number,
): Promise<void> {
  await orm(db)
    .update(e)
    .set({ status: "ignored", outcome, updatedAt: now })
    .where(
      and(
        eq(e.status, "unmapped"),
        eq(e.connectionId, connectionId),
        eq(e.eventType, pullEventType),
      ),
    );
}
