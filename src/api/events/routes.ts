import { createRoute } from "@hono/zod-openapi";
import { requireAdmin, requireTenantAuth } from "../../http/auth";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  IdParam,
  jsonBody,
  ok,
  WRITE_ERRORS,
} from "../../http/openapi";
import { pageRequest, pageSchema } from "../../http/pagination";
import { EventDetailSchema, EventSchema, eventDetail, toApiEvent } from "../../services/event-view";
import { ignoreEvent } from "../../services/ignore";
import { eventOr404, QUEUE_UNAVAILABLE, ReasonBody } from "../../services/operator";
import { replayEvent } from "../../services/replay";
import { retryEvent, retryEvents } from "../../services/retry";
import { listEvents } from "../../store/events";
import { BatchRetryBody, BatchRetryResult, filtersOf, ListQuery } from "./schemas";

/**
 * Operator controls over channel events (issue 4 §4): list and inspect them, retry a failed one,
 * replay any historical one, ignore one with a reason, and retry a filtered batch. Every query is
 * scoped by the token's tenant; events never resolved to a tenant (tenant_id NULL) are invisible.
 * Retry, replay and ignore are services/ (the dead-letter and sync-log routers use them too).
 */

const tags = ["Operations: events"];

/** /api/v1/events: inbound and outbound events, with retry, replay and ignore. */
export const events = createRouter();
events.use("*", requireTenantAuth);
events
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List the tenant's channel events (filter, sort, paginate)",
      description:
        "Newest received first by default; sort by received_at or updated_at, asc or desc. " +
        "from/to bound received_at (epoch ms). The cursor belongs to one sort and order.",
      security: BEARER,
      request: { query: ListQuery },
      responses: { 200: ok("A page of events", pageSchema(EventSchema)), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { sort, order, cursor, limit, ...filters } = c.req.valid("query");
      const req = pageRequest({ limit, cursor }, order);
      const result = await listEvents(c.env.DB, c.var.auth.tenantId, filtersOf(filters), req, sort);
      return c.json({ data: result.data.map(toApiEvent), next_cursor: result.next_cursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/batch-retry",
      tags,
      summary: "Retry the events matching a filter, at most 500 per call (admin)",
      description:
        "Takes the oldest matching events (status failed unless given: failed, retrying or " +
        "unmapped), resets each to received with attempts 0, sends it again and resolves its " +
        "dead letters. Retried events no longer match, so calling again while `more` is true " +
        "takes the next ones.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: jsonBody(BatchRetryBody),
      responses: {
        202: ok("What was retried", BatchRetryResult),
        ...WRITE_ERRORS,
        503: QUEUE_UNAVAILABLE,
      },
    }),
    async (c) => {
      const { limit, ...filters } = c.req.valid("json");
      const r = await retryEvents(c.env, c.var.auth.tenantId, filtersOf(filters), limit);
      const { matched, skipped, more } = r;
      return c.json(
        { matched, retried: r.retried.length, skipped, more, data: r.retried.map(toApiEvent) },
        202,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get an event with its attempt log and raw payload",
      description:
        "The payload is the webhook body exactly as received; its signature is never shown.",
      security: BEARER,
      request: { params: IdParam },
      responses: { 200: ok("The event", EventDetailSchema), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await eventOr404(c.env.DB, c.var.auth.tenantId, id);
      return c.json(await eventDetail(c.env.DB, row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/retry",
      tags,
      summary: "Retry a failed, retrying or unmapped event (admin)",
      description:
        "Resets it to received with attempts 0 (the attempt log is kept), sends its message to " +
        "the inbound queue again and resolves its dead letters as retried. 409 names the state " +
        "of an event that cannot be retried.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: {
        202: ok("The event, queued again", EventDetailSchema),
        ...WRITE_ERRORS,
        503: QUEUE_UNAVAILABLE,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await retryEvent(c.env, c.var.auth.tenantId, id);
      return c.json(await eventDetail(c.env.DB, row), 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/replay",
      tags,
      summary: "Replay any historical inbound event (admin)",
      description:
        "Done, ignored, failed, unmapped…: resets attempts, sets it received and sends it " +
        "through the inbound queue again. Idempotent: the booking is fetched from the platform " +
        "again and imports are revision-ordered, so replaying an applied event changes nothing " +
        "(it ends ignored, stale). 409 while a consumer is processing it.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: {
        202: ok("The event, queued again", EventDetailSchema),
        ...WRITE_ERRORS,
        503: QUEUE_UNAVAILABLE,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await replayEvent(c.env, c.var.auth.tenantId, id);
      return c.json(await eventDetail(c.env.DB, row), 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/ignore",
      tags,
      summary: "Ignore an event, with a reason (admin)",
      description:
        "Sets it ignored with outcome 'ignored by operator: <reason>' and resolves its dead " +
        "letters as ignored. 409 while it is processing, and for an event already done or ignored.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam, ...jsonBody(ReasonBody) },
      responses: { 200: ok("The ignored event", EventDetailSchema), ...WRITE_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { reason } = c.req.valid("json");
      const row = await ignoreEvent(c.env.DB, c.var.auth.tenantId, id, reason);
      return c.json(await eventDetail(c.env.DB, row), 200);
    },
  );
