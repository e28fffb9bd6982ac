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
import { ignoreDeadLetter } from "../../services/ignore";
import { deadLetterOr404, QUEUE_UNAVAILABLE, ReasonBody } from "../../services/operator";
import { retryDeadLetter } from "../../services/retry";
import { listDeadLetters, type DeadLetterRow } from "../../store/dead-letters";
import { eventIdByKey } from "../../store/events";
import {
  DeadLetterDetailSchema,
  DeadLetterSchema,
  deadLetterFilters,
  ListQuery,
  presentDeadLetterDetail,
  toApiDeadLetter,
} from "./schemas";

/**
 * Operator controls over dead letters (issue 4 §4): messages that exhausted their retries or
 * failed permanently, stored with their whole context by the dead-letter consumers. List, inspect,
 * retry (send the original message again) or ignore with a reason; either resolves the row.
 * Scoped by the token's tenant: a dead letter never resolved to a tenant is invisible.
 */

/** The detail, with its channel event's id if one was recorded. */
async function detail(db: D1Database, r: DeadLetterRow) {
  const eventId = r.idempotencyKey
    ? await eventIdByKey(db, r.tenantId ?? "", r.idempotencyKey)
    : null;
  return presentDeadLetterDetail(r, eventId);
}

const tags = ["Operations: dead letters"];

/** /api/v1/dead-letters */
export const deadLetters = createRouter();
deadLetters.use("*", requireTenantAuth);
deadLetters
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List the tenant's dead letters (unresolved by default)",
      description: "Sorted by created_at (desc by default); from/to bound created_at (epoch ms).",
      security: BEARER,
      request: { query: ListQuery },
      responses: {
        200: ok("A page of dead letters", pageSchema(DeadLetterSchema)),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const req = pageRequest(q, q.order);
      const result = await listDeadLetters(
        c.env.DB,
        c.var.auth.tenantId,
        deadLetterFilters(q),
        req,
      );
      return c.json(
        { data: result.data.map(toApiDeadLetter), next_cursor: result.next_cursor },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a dead letter with its original message and every attempt's error",
      security: BEARER,
      request: { params: IdParam },
      responses: { 200: ok("The dead letter", DeadLetterDetailSchema), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await deadLetterOr404(c.env.DB, c.var.auth.tenantId, id);
      return c.json(await detail(c.env.DB, row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/retry",
      tags,
      summary: "Send a dead letter's original message again (admin)",
      description:
        "Inbound: the event's retry (only a failed, retrying or unmapped event; 409 names its " +
        "state). Outbound: the original message goes back to the outbound queue. The dead " +
        "letter is resolved as retried; 409 if it already was resolved.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: {
        202: ok("The resolved dead letter", DeadLetterDetailSchema),
        ...WRITE_ERRORS,
        503: QUEUE_UNAVAILABLE,
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await retryDeadLetter(c.env, c.var.auth.tenantId, id);
      return c.json(await detail(c.env.DB, row), 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/ignore",
      tags,
      summary: "Resolve a dead letter as ignored, with a reason (admin)",
      description:
        "An inbound dead letter's failed event is ignored with it. 409 if already resolved.",
      security: BEARER,
      middleware: [requireAdmin] as const,
      request: { params: IdParam, ...jsonBody(ReasonBody) },
      responses: { 200: ok("The resolved dead letter", DeadLetterDetailSchema), ...WRITE_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { reason } = c.req.valid("json");
      const row = await ignoreDeadLetter(c.env.DB, c.var.auth.tenantId, id, reason);
      return c.json(await detail(c.env.DB, row), 200);
    },
  );
