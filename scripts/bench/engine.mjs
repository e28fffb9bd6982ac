// The engine as the bench drives it: its API with the demo admin token, the lake house's
// connections and gates, and its calendar (the truth the platforms are compared with).
import { DEMO } from "../lib/stack.mjs";
import { PLATFORMS } from "./platforms/index.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function engineApi(engineUrl) {
  return async (method, path, body) => {
    const res = await fetch(`${engineUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${DEMO.tokens.alpineAdmin}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`engine ${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  };
}

/** The property's connection to one platform; throws when it has none. */
export async function connectionOf(api, propertyId, platformId) {
  const status = await api("GET", `/api/v1/properties/${propertyId}/channel-status`);
  const found = status.connections.find((c) => c.platform === platformId);
  if (!found) throw new Error(`${propertyId} has no ${platformId} connection`);
  return found;
}

/** The property's connections by platform, with their gates' pending nights. */
export async function connectionsOf(api, propertyId) {
  const status = await api("GET", `/api/v1/properties/${propertyId}/channel-status`);
  const out = {};
  for (const c of status.connections) out[c.platform] = c;
  for (const p of PLATFORMS) {
    if (!out[p.id]) throw new Error(`${propertyId} has no ${p.id} connection`);
  }
  return out;
}

/** Poll channel-status until every gate holds no pending nights; false after `timeoutMs`. */
export async function waitForIdleGates(api, propertyId, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const conns = await connectionsOf(api, propertyId);
    const idle = PLATFORMS.every((p) => conns[p.id].outbound?.pending_nights === 0);
    if (idle) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

export async function readTruth(api, roomTypeId, from, to) {
  const res = await api("GET", `/api/v1/room-types/${roomTypeId}/calendar?from=${from}&to=${to}`);
  return new Map(res.data.map((n) => [n.date, n]));
}

/** One PUT /calendar of the lake house with the demo admin token. */
export function putCalendar(engineUrl, roomTypeId, nights, init = {}) {
  return fetch(`${engineUrl}/api/v1/room-types/${roomTypeId}/calendar`, {
    method: "PUT",
    headers: {
      authorization: `Bearer ${DEMO.tokens.alpineAdmin}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ nights }),
    ...init,
  });
}
