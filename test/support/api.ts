import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./api-schema";
import { engineFetch } from "./fixtures";

export type { paths };

/** The base URL tests address the engine by; the Worker routes by path, any host works. */
export const ENGINE = "http://engine.test";

/**
 * The one typed API client: paths, parameters, bodies and responses come from the engine's own
 * /openapi.json (api-schema.d.ts, `npm run api:types`), and requests go to the engine's fetch
 * handler in this isolate. `token` is sent as the Bearer token (a tenant's API token, or the
 * operator token for POST /tenants).
 */
export function api(token?: string): Client<paths> {
  return createClient<paths>({
    baseUrl: ENGINE,
    fetch: (request: Request) => engineFetch(request),
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}
