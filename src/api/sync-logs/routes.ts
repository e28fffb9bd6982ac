import { createRoute } from "@hono/zod-openapi";
import { gateFor } from "../../../durable-objects/channel-gate/client";
import { requireAdmin, requireTenantAuth } from "../../http/auth";
import { ApiError } from "../../http/errors";
import { AUTH_ERRORS, BEARER, createRouter, IdParam, ok, WRITE_ERRORS } from "../../http/openapi";
import { pageRequest, pageSchema } from "../../http/pagination";
import { log } from "../../lib/log";
import { eventDetail } from "../../services/event-view";
import { QUEUE_UNAVAILABLE } from "../../services/operator";
import { republishEvent } from "../../services/replay";
import { ownLiveConnection } from "../../store/connections";
import { eventIdByKey } from "../../store/events";
import { listSyncLogs, ownSyncLog, type SyncLogRow } from "../../store/sync-logs";
import { gateToApi, ListQuery, RetryResult, SyncLogSchema, toApiSyncLog } from "./schemas";

/**
 * Operator controls over the sync log (issue 4 §4): list every inbound and outbound sync of the
 * tenant, and retry one. An inbound sync is retried through its event (the event's state rules);
 * an outbound one by flushing its connection's ChannelGate now, which pushes the current state of
 * every pending night (state, not deltas, so a flush is always safe to repeat).
 */

const notRetryable = (id: string, why: string) =>
  new ApiError(409, "not_retryable", `sync log ${id} cannot be retried: ${why}`);

/** Inbound: retry the sync's event (still kept) through the event's own state rules. */
async function retryInbound(env: Env, tenantId: string, sync: SyncLogRow) {
  const eventId = sync.eventId ? await eventIdByKey(env.DB, tenantId, sync.eventId) : null;
  if (!eventId) throw notRetryable(sync.id, "its event is no longer kept");
  const row = await republishEvent(env, tenantId, eventId, "retry", {
    note: `retried by an operator (sync log ${sync.id})`,
  });
  return { sync_log: toApiSyncLog(sync), event: await eventDetail(env.DB, row), gate: null };
}

/** Outbound: flush the sync's connection (still live) now. */
async function retryOutbound(env: Env, tenantId: string, sync: SyncLogRow) {
  const connection = await ownLiveConnection(env.DB, tenantId, sync.connectionId);
  if (!connection) throw notRetryable(sync.id, "its connection was deleted");
  const status = await gateFor(env, connection.id).flushNow();
  log("info", "operator.sync_retry_flush", {
    tenantId,
    syncLogId: sync.id,
    connectionId: connection.id,
    pendingNights: status.pendingNights,
  });
  return { sync_log: toApiSyncLog(sync), event: null, gate: gateToApi(status) };
}

const tags = ["Operations: sync logs"];

/** /api/v1/sync-logs */
export const syncLogs = createRouter();
syncLogs.use("*", requireTenantAuth);
syncLogs
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List the tenant's sync log, newest first",
      description: "from/to bound triggered_at (epoch ms).",
      security: BEARER,
      request: { query: ListQuery },
      responses: {
        200: ok("A page of sync log entries", pageSchema(SyncLogSchema)),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const req = pageRequest(q);
      const filters = {
        connectionId: q.connection_id,
        status: q.status,
        direction: q.direction,
        from: q.from,
        to: q.to,
      };
      const p = await listSyncLogs(c.env.DB, c.var.auth.tenantId, filters, req);
      return c.json({ data: p.data.map(toApiSyncLog), next_cursor: p.next_cursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/retry",
      tags,
      summary: "Retry a sync (admin)",
      description:
        "Inbound: retries its event (only a failed, retrying or unmapped event; 409 names its " +
        "state) and answers 202 with it. Outbound: flushes the connection's ChannelGate now, " +
        "pushing the current state of every pending night, and answers 200 with the gate's status.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: {
        200: ok("Outbound: the gate was flushed", RetryResult),
        202: ok("Inbound: its event is queued again", RetryResult),
        ...WRITE_ERRORS,
        503: QUEUE_UNAVAILABLE,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const tenantId = c.var.auth.tenantId;
      const sync = await ownSyncLog(c.env.DB, tenantId, id);
      if (!sync) throw new ApiError(404, "not_found", `sync log ${id} not found`);
      if (sync.direction === "inbound") {
        return c.json(await retryInbound(c.env, tenantId, sync), 202);
      }
      return c.json(await retryOutbound(c.env, tenantId, sync), 200);
    },
  );
