import { log } from "../lib/log";
import {
  deleteRelayed,
  outboxOfCause,
  outboxOfRoomType,
  staleOutbox,
  type OutboxRow,
} from "../store/outbox";
import type { NightsChangedMessage } from "./messages";

export { deleteRelayed };

/**
 * A row a booking wrote (a conflict too) carries the platform it came from; the owner's calendar
 * writes none. A booking's nights are urgent: a sold night must close before any price moves.
 */
function isUrgent(row: OutboxRow): boolean {
  return row.sourcePlatform !== null;
}

/** Group rows into one message per (room type, source, include_source, cause, aspect). */
function toMessages(rows: OutboxRow[]): NightsChangedMessage[] {
  const groups = new Map<string, NightsChangedMessage>();
  for (const r of rows) {
    const key = [r.roomTypeId, r.sourcePlatform, r.includeSource, r.causeKey, r.aspect].join("|");
    const msg = groups.get(key) ?? {
      v: 1 as const,
      kind: "nights.changed" as const,
      tenantId: r.tenantId,
      propertyId: r.propertyId,
      roomTypeId: r.roomTypeId,
      ranges: [],
      sourcePlatform: r.sourcePlatform as NightsChangedMessage["sourcePlatform"],
      includeSource: r.includeSource,
      causeKey: r.causeKey,
      aspects: [r.aspect],
      ...(isUrgent(r) ? { urgent: true } : {}),
      changedAt: r.createdAt,
    };
    msg.ranges.push({ start: r.startDate, end: r.endDate });
    groups.set(key, msg);
  }
  return [...groups.values()];
}

/** Send the rows' messages; returns the ids to delete once the caller's next write commits. */
async function send(env: Env, rows: OutboxRow[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const messages = toMessages(rows);
  // Sent before deleting: a crash in between sends twice, which the level-triggered gates absorb.
  for (let i = 0; i < messages.length; i += 100) {
    await env.OUTBOUND_QUEUE.sendBatch(
      messages.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const })),
    );
  }
  return rows.map((r) => r.id);
}

async function relay(env: Env, rows: OutboxRow[]): Promise<number> {
  const ids = await send(env, rows);
  if (ids.length > 0) await env.DB.batch(deleteRelayed(env.DB, ids));
  return ids.length;
}

/**
 * Relay the outbox rows one event wrote, right after its batch committed. Returns the relayed ids:
 * the caller deletes them in its closing batch (one round trip fewer on the hot path).
 */
export async function relayOutboxFor(env: Env, causeKey: string): Promise<string[]> {
  return send(env, await outboxOfCause(env.DB, causeKey));
}

/**
 * Every outbox row of one room type, whoever wrote it: a request retried after its batch
 * committed but answered an error writes nothing new, and its rows must not wait for the cron.
 * Relaying another request's rows early is harmless (the gates are level-triggered).
 */
export async function relayOutboxForRoomType(
  env: Env,
  tenantId: string,
  roomTypeId: string,
): Promise<number> {
  return relay(env, await outboxOfRoomType(env.DB, tenantId, roomTypeId, PAGE));
}

/** Rows per sweep page, and pages per cron run: up to 20,000 rows a minute. */
const PAGE = 500;
const MAX_PAGES = 40;

/**
 * Cron sweep: rows left behind by a relay that never ran (crash between commit and send), oldest
 * first, page after page until none is left or 40 pages went (each page: one read, six deletes,
 * a few queue sends — about 300 D1 calls for the whole run, within one invocation's 1,000).
 */
export async function relayStaleOutbox(
  env: Env,
  now: number,
  olderThanMs = 30_000,
): Promise<number> {
  let sent = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const rows = await staleOutbox(env.DB, now - olderThanMs, PAGE);
    sent += await relay(env, rows);
    if (rows.length < PAGE) break;
  }
  if (sent > 0) log("warn", "outbox.relayed_stale", { rows: sent });
  return sent;
}
