import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, requireTenantAuth } from "../http/auth";
import { ApiError } from "../http/errors";
import {
  AUTH_ERRORS,
  BEARER,
  createRouter,
  IdParam,
  IdRef,
  jsonBody,
  ok,
  WRITE_ERRORS,
} from "../http/openapi";
import { afterCursor, page, pageSchema, PageQuery } from "../http/pagination";
import { base64ToBytes } from "../lib/encoding";
import { log } from "../lib/log";
import { idempotencyKeyOf, inboundMessage, outboundMessage } from "../queue/messages";
import {
  AttemptLog,
  canonicalPlatform,
  Order,
  parseAttemptLog,
  PlatformFilter,
  QUEUE_UNAVAILABLE,
  queueUnavailable,
  ReasonBody,
  republishEvent,
  timeRangeQuery,
  Where,
} from "./events";

/**
 * Operator controls over dead letters (issue 4 §4): messages that exhausted their retries or
 * failed permanently, stored with their whole context by the dead-letter consumers. List, inspect,
 * retry (send the original message again) or ignore with a reason; either resolves the row.
 * Scoped by the token's tenant: a dead letter never resolved to a tenant is invisible.
 */

const QUEUES = ["inbound", "outbound"] as const;
const RESOLUTIONS = ["retried", "replayed", "ignored"] as const;

const DeadLetterSchema = z
  .object({
    id: z.string().openapi({ example: "dlq_5a0e…" }),
    queue: z
      .string()
      .openapi({ example: "inbound", description: "The queue it was dead-lettered from" }),
    message_id: z.string(),
    connection_id: z.string().nullable(),
    platform: z.string().nullable(),
    idempotency_key: z
      .string()
      .nullable()
      .openapi({ description: "Inbound: its event's idempotency key (GET /api/v1/events?…)" }),
    error: z.string().nullable(),
    attempts: z.number().int(),
    created_at: z.number().int(),
    resolved_at: z.number().int().nullable(),
    resolution: z.enum(RESOLUTIONS).nullable(),
    resolution_note: z.string().nullable(),
  })
  .openapi("DeadLetter");
type ApiDeadLetter = z.infer<typeof DeadLetterSchema>;

const DeadLetterDetailSchema = DeadLetterSchema.extend({
  event_id: z
    .string()
    .nullable()
    .openapi({ description: "Its channel event, if one was recorded" }),
  body: z.unknown().openapi({
    description: "The original queue message (a webhook's signature is left out)",
  }),
  payload: z
    .string()
    .nullable()
    .openapi({ description: "A webhook message's raw body, decoded; null otherwise" }),
  attempt_log: AttemptLog,
}).openapi("DeadLetterDetail");
type ApiDeadLetterDetail = z.infer<typeof DeadLetterDetailSchema>;

interface DeadLetterRow extends ApiDeadLetter {
  tenant_id: string;
  body: string;
  attempt_log: string;
}

const COLUMNS = `id, tenant_id, queue, message_id, connection_id, platform, idempotency_key, body, error,
  attempts, attempt_log, created_at, resolved_at, resolution, resolution_note`;

function toApi(r: DeadLetterRow): ApiDeadLetter {
  return {
    id: r.id,
    queue: r.queue,
    message_id: r.message_id,
    connection_id: r.connection_id,
    platform: r.platform,
    idempotency_key: r.idempotency_key,
    error: r.error,
    attempts: r.attempts,
    created_at: r.created_at,
    resolved_at: r.resolved_at,
    resolution: r.resolution,
    resolution_note: r.resolution_note,
  };
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function toDetail(db: D1Database, r: DeadLetterRow): Promise<ApiDeadLetterDetail> {
  const body = parseBody(r.body);
  let shown: unknown = body;
  let payload: string | null = null;
  if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    const { signature: _signature, ...rest } = body as Record<string, unknown>;
    shown = rest;
    if (typeof rest.bodyB64 === "string") {
      try {
        payload = new TextDecoder().decode(base64ToBytes(rest.bodyB64));
      } catch {
        payload = null;
      }
    }
  }
  const event = r.idempotency_key
    ? await db
        .prepare(`SELECT id FROM channel_events WHERE idempotency_key = ? AND tenant_id = ?`)
        .bind(r.idempotency_key, r.tenant_id)
        .first<{ id: string }>()
    : null;
  return {
    ...toApi(r),
    event_id: event?.id ?? null,
    body: shown,
    payload,
    attempt_log: parseAttemptLog(r.attempt_log),
  };
}

const notFound = (id: string) => new ApiError(404, "not_found", `dead letter ${id} not found`);

async function ownDeadLetter(db: D1Database, tenantId: string, id: string): Promise<DeadLetterRow> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM dead_letters WHERE id = ? AND tenant_id = ?`)
    .bind(id, tenantId)
    .first<DeadLetterRow>();
  if (!row) throw notFound(id);
  return row;
}

const alreadyResolved = (r: DeadLetterRow) =>
  new ApiError(409, "invalid_state", `dead letter ${r.id} is already resolved (${r.resolution})`, [
    { path: "resolved_at", message: `resolved at ${r.resolved_at}` },
  ]);

const notRetryable = (id: string, why: string) =>
  new ApiError(
    409,
    "not_retryable",
    `dead letter ${id} cannot be retried: ${why}; ignore it instead`,
  );

/** Resolve one dead letter (compare-and-swap on resolved_at IS NULL); null if it already was. */
function resolveStatement(
  db: D1Database,
  tenantId: string,
  id: string,
  resolution: (typeof RESOLUTIONS)[number],
  note: string | null,
  now: number,
) {
  return db
    .prepare(
      `UPDATE dead_letters SET resolved_at = ?, resolution = ?, resolution_note = ?
       WHERE id = ? AND tenant_id = ? AND resolved_at IS NULL RETURNING ${COLUMNS}`,
    )
    .bind(now, resolution, note, id, tenantId);
}

/**
 * Send a dead letter's original message again and resolve it as retried. Inbound with a recorded
 * event: the event's retry (its state rules, its reset, all its dead letters resolved). Otherwise
 * the message goes back to its queue as it was; if the queue refuses it, the row stays unresolved.
 */
async function retryDeadLetter(env: Env, tenantId: string, id: string): Promise<DeadLetterRow> {
  const db = env.DB;
  const dl = await ownDeadLetter(db, tenantId, id);
  if (dl.resolved_at !== null) throw alreadyResolved(dl);
  const body = parseBody(dl.body);
  const note = "retried by an operator";

  if (dl.queue === "inbound") {
    const parsed = inboundMessage.safeParse(body);
    if (!parsed.success) throw notRetryable(id, "its message is not a valid inbound message");
    const message = parsed.data;
    if (message.kind === "pull" && message.tenantId !== tenantId) {
      throw notRetryable(id, "its message names another tenant");
    }
    const event = await db
      .prepare(`SELECT id FROM channel_events WHERE idempotency_key = ? AND tenant_id = ?`)
      .bind(idempotencyKeyOf(message), tenantId)
      .first<{ id: string }>();
    if (event) {
      await republishEvent(env, tenantId, event.id, "retry", {
        message,
        note: `${note} (dead letter ${id})`,
      });
      // Resolved with its event's dead letters; this one too if its key column was not set.
      await resolveStatement(db, tenantId, id, "retried", note, Date.now()).run();
      return ownDeadLetter(db, tenantId, id);
    }
  } else if (dl.queue === "outbound") {
    const parsed = outboundMessage.safeParse(body);
    if (!parsed.success) throw notRetryable(id, "its message is not a valid outbound message");
    if (parsed.data.tenantId !== tenantId)
      throw notRetryable(id, "its message names another tenant");
  } else {
    throw notRetryable(id, `unknown queue ${dl.queue}`);
  }

  // Claim first, so two operators cannot both send it; undo if the queue refuses.
  const now = Date.now();
  const claimed = await resolveStatement(
    db,
    tenantId,
    id,
    "retried",
    note,
    now,
  ).first<DeadLetterRow>();
  if (!claimed) throw alreadyResolved(await ownDeadLetter(db, tenantId, id));
  try {
    const queue = dl.queue === "inbound" ? env.INBOUND_QUEUE : env.OUTBOUND_QUEUE;
    await queue.send(body, { contentType: "json" });
  } catch (err) {
    await db
      .prepare(
        `UPDATE dead_letters SET resolved_at = NULL, resolution = NULL, resolution_note = NULL
         WHERE id = ? AND resolved_at = ? AND resolution = 'retried'`,
      )
      .bind(id, now)
      .run();
    throw queueUnavailable(err, `dead letter ${id}`);
  }
  log("info", "operator.dead_letter_retried", { tenantId, deadLetterId: id, queue: dl.queue });
  return claimed;
}

/**
 * Resolve as ignored with the operator's reason. An inbound dead letter's event, left `failed` by
 * the dead-letter consumer, is ignored with it (its outcome says why).
 */
async function ignoreDeadLetter(
  db: D1Database,
  tenantId: string,
  id: string,
  reason: string,
): Promise<DeadLetterRow> {
  const now = Date.now();
  const row = await resolveStatement(
    db,
    tenantId,
    id,
    "ignored",
    reason,
    now,
  ).first<DeadLetterRow>();
  if (!row) throw alreadyResolved(await ownDeadLetter(db, tenantId, id));
  if (row.queue === "inbound" && row.idempotency_key) {
    await db
      .prepare(
        `UPDATE channel_events SET status = 'ignored', outcome = ?, lease_until = NULL, updated_at = ?
         WHERE idempotency_key = ? AND tenant_id = ? AND status = 'failed'`,
      )
      .bind(`ignored by operator: ${reason}`, now, row.idempotency_key, tenantId)
      .run();
  }
  log("info", "operator.dead_letter_ignored", { tenantId, deadLetterId: id });
  return row;
}

const ListQuery = PageQuery.extend({
  queue: z.enum(QUEUES).optional(),
  platform: PlatformFilter.optional(),
  connection_id: IdRef("con_4e1d…").optional(),
  property_id: IdRef("prop_3b1f…").optional().openapi({
    description: "Through the dead letter's connection (outbound: the message's property)",
  }),
  resolved: z
    .enum(["true", "false"])
    .default("false")
    .openapi({ description: "false (default): only unresolved ones" }),
  ...timeRangeQuery("created_at"),
  order: Order,
});

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
      const tenantId = c.var.auth.tenantId;
      const k = afterCursor(q.cursor, "created_at", "id", q.order);
      const w = new Where().add("tenant_id = ?", tenantId);
      w.add(q.resolved === "true" ? "resolved_at IS NOT NULL" : "resolved_at IS NULL");
      if (q.queue) w.add("queue = ?", q.queue);
      if (q.platform) w.add("platform = ?", canonicalPlatform(q.platform));
      if (q.connection_id) w.add("connection_id = ?", q.connection_id);
      if (q.property_id) {
        w.add(
          `(connection_id IN (SELECT id FROM channel_connections WHERE property_id = ? AND tenant_id = ?)
            OR (queue = 'outbound' AND json_valid(body) AND json_extract(body, '$.propertyId') = ?))`,
          q.property_id,
          tenantId,
          q.property_id,
        );
      }
      if (q.from !== undefined) w.add("created_at >= ?", q.from);
      if (q.to !== undefined) w.add("created_at < ?", q.to);
      const dir = q.order === "asc" ? "ASC" : "DESC";
      const rows = await c.env.DB.prepare(
        `SELECT ${COLUMNS} FROM dead_letters WHERE ${w.sql()} ${k.sql}
         ORDER BY created_at ${dir}, id ${dir} LIMIT ?`,
      )
        .bind(...w.binds, ...k.binds, q.limit + 1)
        .all<DeadLetterRow>();
      const result = page(rows.results, q.limit, (r) => r.created_at);
      return c.json({ data: result.data.map(toApi), next_cursor: result.next_cursor }, 200);
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
      const row = await ownDeadLetter(c.env.DB, c.var.auth.tenantId, id);
      return c.json(await toDetail(c.env.DB, row), 200);
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
      return c.json(await toDetail(c.env.DB, row), 202);
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
      return c.json(await toDetail(c.env.DB, row), 200);
    },
  );
