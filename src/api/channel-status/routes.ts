import { createRoute } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { gateFor } from "../../../durable-objects/channel-gate/client";
import { requireTenantAuth } from "../../http/auth";
import { ApiError } from "../../http/errors";
import { AUTH_ERRORS, BEARER, createRouter, IdParam, ok, type AppEnv } from "../../http/openapi";
import { errorMessage, log } from "../../lib/log";
import { presentGateStatus } from "../../services/gate-status";
import { liveConnectionsOfProperty, statusCounts } from "../../store/channel-status";
import { ownProperty } from "../../store/properties";
import { pullStates } from "../../store/pulls";
import {
  ChannelStatusSchema,
  presentConnectionStatus,
  presentOutbound,
  type OutboundStatus,
} from "./schemas";

/**
 * GET /api/v1/properties/{id}/channel-status: per live connection of the property, whether it is
 * connected, when it last heard from / pushed to the platform, its failed, queued, unmapped and
 * dead-lettered events, how complete its mappings are, and its ChannelGate's outbound state
 * (pending nights by room type and aspect, why it is blocked, e.g. room types without a mapping,
 * the circuit breaker, the rate limiter and when the platform token is refreshed next).
 *
 * Mounted at /api/v1/properties beside the properties router: it holds only this path and puts
 * auth on the route itself, so nothing here runs for the other router's paths.
 */

/**
 * The properties router on the same prefix authenticates "*" already; this route still carries
 * its own check (it must never depend on a neighbour) but does not look the token up twice.
 */
const tenantAuth = createMiddleware<AppEnv>(async (c, next) =>
  c.var.auth ? next() : requireTenantAuth(c, next),
);

const DAY_MS = 86_400_000;
/** The Durable Object answers from its own SQLite; if it does not within this, report that. */
const GATE_TIMEOUT_MS = 5_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function outboundOf(
  env: Env,
  connectionId: string,
  mappedRoomTypes: ReadonlySet<string>,
): Promise<OutboundStatus> {
  try {
    const s = await withTimeout(gateFor(env, connectionId).status(), GATE_TIMEOUT_MS);
    return presentOutbound(presentGateStatus(s), mappedRoomTypes);
  } catch (err) {
    log("warn", "channel_status.gate_unavailable", { connectionId, error: errorMessage(err) });
    return { error: `channel gate unavailable: ${errorMessage(err)}` };
  }
}

export const channelStatus = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/{id}/channel-status",
    tags: ["Channel status"],
    summary: "Per connection of the property: health, event counts, mapping completeness, outbound",
    security: BEARER,
    middleware: [tenantAuth] as const,
    request: { params: IdParam },
    responses: {
      200: ok("The property's live connections (deleted ones are left out)", ChannelStatusSchema),
      ...AUTH_ERRORS,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const tenantId = c.var.auth.tenantId;
    const db = c.env.DB;
    const found = await ownProperty(db, tenantId, id);
    if (!found) throw new ApiError(404, "not_found", `property ${id} not found`);
    const property = { id: found.id, name: found.name };

    const now = Date.now();
    const connections = await liveConnectionsOfProperty(db, tenantId, id);
    if (connections.length === 0) {
      return c.json({ property, generated_at: now, connections: [] }, 200);
    }
    const ids = connections.map((x) => x.id);
    const counts = await statusCounts(db, tenantId, id, ids, now - DAY_MS);
    const mappedRooms = (x: string) => counts.mappedRoomTypes.get(x) ?? new Set<string>();
    const outbound = await Promise.all(ids.map((x) => outboundOf(c.env, x, mappedRooms(x))));
    const pulls = await pullStates(db, tenantId, ids);
    const data = connections.map((x, i) =>
      presentConnectionStatus(x, {
        totals: counts,
        events: counts.events.get(x.id),
        deadLettered: counts.deadLettered.get(x.id) ?? 0,
        mappedRoomTypes: mappedRooms(x.id).size,
        mappedRatePlans: counts.mappedRatePlans.get(x.id)?.size ?? 0,
        outbound: outbound[i],
        pull: pulls.get(x.id) ?? null,
      }),
    );
    return c.json({ property, generated_at: now, connections: data }, 200);
  },
);
