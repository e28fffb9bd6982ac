import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../kit/app-env";
import { isoTime } from "../kit/dates";
import type { ApiErrorKind, ApiProfile } from "../kit/simulator";
import { buildOtaErrors, type OtaError } from "./ota-xml";
import { buildBxmlError } from "./roomrates";

export const TOKEN_TTL_S = 3600;
/** PROTOCOLS.md: at most 30 tokens minted per hour per client. */
export const MINT_LIMIT = { limit: 30, windowMs: 3600_000 };

/** The RS root that answers a request path, e.g. /ota/OTA_HotelAvailNotif -> OTA_HotelAvailNotifRS. */
function responseRoot(path: string): string {
  const last = path.split("/").pop() ?? "";
  if (!last.startsWith("OTA_")) return "OTA_ErrorRS";
  return last.endsWith("RS") ? last : `${last}RS`;
}

const GATE_ERRORS: Record<ApiErrorKind, Omit<OtaError, "message">> = {
  unauthorized: { type: 4, code: "497", shortText: "AUTHENTICATION_FAILED" },
  rate_limited: { type: 12, code: "450", shortText: "RATE_LIMIT_EXCEEDED" },
  unavailable: { type: 12, code: "448", shortText: "SYSTEM_ERROR" },
  timeout: { type: 12, code: "448", shortText: "TIMEOUT" },
};

export function xml(c: Context<AppEnv>, body: string, status = 200): Response {
  return c.body(body, status as ContentfulStatusCode, {
    "Content-Type": "application/xml; charset=utf-8",
  });
}

export function otaErrors(
  c: Context<AppEnv>,
  errors: OtaError[],
  status = 200,
  echoToken?: string,
) {
  const root = responseRoot(new URL(c.req.url).pathname);
  return xml(
    c,
    buildOtaErrors(root, errors, { timestamp: isoTime(Date.now()), echoToken }),
    status,
  );
}

/** Endpoints under /hotels/xml/ speak Booking.com's own XML, with `<error>` bodies. */
const isBxml = (c: Context<AppEnv>) => new URL(c.req.url).pathname.includes("/hotels/xml/");

export function bxmlError(c: Context<AppEnv>, status: number, message: string): Response {
  return xml(c, buildBxmlError(status, message), status);
}

/**
 * Booking.com: hotels of rooms whose rooms-to-sell drop per booked night; OTA XML endpoints (and
 * B.XML under /hotels/xml/) behind a bearer JWT, answering errors in the dialect of the endpoint.
 */
export const bookingProfile: ApiProfile = {
  name: "booking_com",
  inventory: "rooms",
  // Seeds and PROTOCOLS.md: 20 requests per minute per connection.
  rateLimit: { limit: 20, windowMs: 60_000 },
  error: (c, kind, status, message) =>
    isBxml(c)
      ? bxmlError(c, status, message)
      : otaErrors(c, [{ ...GATE_ERRORS[kind], message }], status),
};
