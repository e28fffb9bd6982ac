import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ApiProfile } from "../kit/simulator";

/** Access tokens minted by the refresh grant live an hour. */
export const TOKEN_TTL_S = 3600;

const ERROR_CODES = {
  unauthorized: "invalid_token",
  rate_limited: "rate_limited",
  unavailable: "service_unavailable",
  timeout: "gateway_timeout",
} as const;

/**
 * Airbnb: a listing is its own property and its booked nights read unavailable; the `/v2` API sits
 * behind a bearer token (OAuth 2.0 refresh grant) and answers errors as JSON `{error, message}`.
 */
export const airbnbProfile: ApiProfile = {
  name: "airbnb",
  inventory: "listing",
  // Seeds: 10 requests per second per host.
  rateLimit: { limit: 10, windowMs: 1000 },
  error: (c, kind, status, message) =>
    c.json({ error: ERROR_CODES[kind], message }, status as ContentfulStatusCode),
};
