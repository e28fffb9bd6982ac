import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app-env";
import { type ApiErrorKind, apiGate, type PlatformProfile, requestLog } from "../gate";
import { isoTime } from "../lib/dates";
import { readOAuthParams, sleep } from "../lib/http";
import { platformState } from "../state/platform-state";
import type { ReservationRow } from "../state/types";
import { type AriValidation, validateAvailNotif, validateRateAmountNotif } from "./ari";
import { mintJwt } from "./jwt";
import { RES_STATUS } from "./reservation-json";
import { buildBxmlError, buildRoomRates, parseRoomRatesRequest } from "./roomrates";
import {
  parseOtaRequest,
  readAcknowledgement,
  readAvailNotif,
  readRateAmountNotif,
} from "./ota-parse";
import {
  buildHotelResNotifRQ,
  buildOtaErrors,
  buildOtaSuccess,
  type OtaError,
  type ResNotifReservation,
} from "./ota-xml";

const TOKEN_TTL_S = 3600;
/** PROTOCOLS.md: at most 30 tokens minted per hour per client. */
const MINT_LIMIT = { limit: 30, windowMs: 3600_000 };

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

function xml(c: Context<AppEnv>, body: string, status = 200): Response {
  return c.body(body, status as ContentfulStatusCode, {
    "Content-Type": "application/xml; charset=utf-8",
  });
}

function otaErrors(c: Context<AppEnv>, errors: OtaError[], status = 200, echoToken?: string) {
  const root = responseRoot(new URL(c.req.url).pathname);
  return xml(
    c,
    buildOtaErrors(root, errors, { timestamp: isoTime(Date.now()), echoToken }),
    status,
  );
}

/** Endpoints under /hotels/xml/ speak Booking.com's own XML, with `<error>` bodies. */
const isBxml = (c: Context<AppEnv>) => new URL(c.req.url).pathname.includes("/hotels/xml/");

function bxmlError(c: Context<AppEnv>, status: number, message: string): Response {
  return xml(c, buildBxmlError(status, message), status);
}

export const bookingProfile: PlatformProfile = {
  name: "booking_com",
  // Seeds and PROTOCOLS.md: 20 requests per minute per connection.
  rateLimit: { limit: 20, windowMs: 60_000 },
  error: (c, kind, status, message) =>
    isBxml(c)
      ? bxmlError(c, status, message)
      : otaErrors(c, [{ ...GATE_ERRORS[kind], message }], status),
};

export const bookingCom = new Hono<AppEnv>();

bookingCom.use("*", requestLog("booking_com"));

/** Client-credentials grant; the token is a JWT valid one hour. */
bookingCom.post("/oauth/token", async (c) => {
  const stub = platformState(c.env, "booking_com");
  const faults = await stub.getFaults();
  if (faults.latency_ms > 0) await sleep(faults.latency_ms);
  const p = await readOAuthParams(c.req.raw);
  c.header("Cache-Control", "no-store");
  if (
    p.client_id !== c.env.BOOKING_COM_CLIENT_ID ||
    p.client_secret !== c.env.BOOKING_COM_CLIENT_SECRET
  ) {
    return c.json({ error: "invalid_client" }, 401);
  }
  if (p.grant_type !== "client_credentials")
    return c.json({ error: "unsupported_grant_type" }, 400);
  const token = await mintJwt(p.client_id, p.client_secret, TOKEN_TTL_S);
  const minted = await stub.mintToken(token, p.client_id, TOKEN_TTL_S * 1000, {
    bucket: `mint:${p.client_id}`,
    ...MINT_LIMIT,
  });
  if (!minted.ok) {
    c.header("Retry-After", String(minted.retry_after));
    return c.json(
      { error: "rate_limited", message: `At most ${MINT_LIMIT.limit} tokens per hour` },
      429,
    );
  }
  return c.json({ access_token: token, token_type: "Bearer", expires_in: TOKEN_TTL_S });
});

bookingCom.use("/ota/*", apiGate(bookingProfile));
bookingCom.use("/hotels/xml/*", apiGate(bookingProfile));

const isXml = (type: string | undefined) => !!type && /[/+]xml\b/i.test(type);

/** Read and parse an OTA request; answers the protocol errors (HTTP 400/415) itself. */
async function readOta(c: Context<AppEnv>, root: string) {
  const raw = await c.req.text();
  if (!isXml(c.req.header("content-type"))) {
    const error = {
      type: 7,
      code: "450",
      shortText: "UNSUPPORTED_MEDIA_TYPE",
      message: "Content-Type must be application/xml",
    };
    return { response: otaErrors(c, [error], 415) };
  }
  const parsed = parseOtaRequest(raw, root);
  return parsed.ok ? { parsed } : { response: otaErrors(c, [parsed.error], 400) };
}

async function ariEndpoint(
  c: Context<AppEnv>,
  root: "OTA_HotelAvailNotifRQ" | "OTA_HotelRateAmountNotifRQ",
): Promise<Response> {
  const read = await readOta(c, root);
  if (!read.parsed) return read.response;
  const { root: node, echoToken } = read.parsed;
  const stub = platformState(c.env, "booking_com");
  const now = Date.now();
  // A hotel that has not authorised the channel is refused as an unknown one (no rooms).
  const rooms = async (hotelId: string | undefined) => {
    const hotel = await stub.bookingHotel(hotelId ?? "");
    return hotel?.authorised ? hotel.rooms : [];
  };
  let result: AriValidation;
  if (root === "OTA_HotelAvailNotifRQ") {
    const req = readAvailNotif(node);
    result = validateAvailNotif(req, await rooms(req.hotelCode), now);
  } else {
    const req = readRateAmountNotif(node);
    result = validateRateAmountNotif(req, await rooms(req.hotelCode), now);
  }
  // Business errors answer HTTP 200 with <Errors>, as Booking.com does.
  if (!result.ok) return otaErrors(c, result.errors, 200, echoToken);
  await stub.writeDays(result.writes);
  const rs = root.replace(/RQ$/, "RS");
  return xml(c, buildOtaSuccess(rs, { timestamp: isoTime(Date.now()), echoToken }));
}

bookingCom.post("/ota/OTA_HotelAvailNotif", (c) => ariEndpoint(c, "OTA_HotelAvailNotifRQ"));
bookingCom.post("/ota/OTA_HotelRateAmountNotif", (c) =>
  ariEndpoint(c, "OTA_HotelRateAmountNotifRQ"),
);

const isoSeconds = (ms: number) => isoTime(Math.floor(ms / 1000) * 1000).replace(".000Z", "Z");

function toResNotif(r: ReservationRow): ResNotifReservation {
  return {
    reservationId: r.id,
    hotelId: r.property_id,
    roomId: r.unit_id,
    ratePlanId: r.rate_plan_id,
    resStatus: RES_STATUS[r.last_action],
    // Booking.com stamps reservations to the second: a change within the same second as the
    // revision a client holds carries the same LastModifyDateTime.
    createdAt: isoSeconds(r.created_at),
    lastModifiedAt: isoSeconds(r.modified_at),
    start: r.start_date,
    end: r.end_date,
    guests: r.guests,
    total: r.total,
    currency: r.currency,
    givenName: r.given_name,
    surname: r.surname,
  };
}

/** Pull: reservations not acknowledged since their last change (all hotels without hotel_id). */
bookingCom.get("/ota/OTA_HotelResNotif", async (c) => {
  const hotelId = c.req.query("hotel_id") || null;
  const stub = platformState(c.env, "booking_com");
  if (hotelId && !(await stub.bookingHotel(hotelId))?.authorised) {
    const error = {
      type: 6,
      code: "497",
      shortText: "ACCESS_DENIED",
      message: `Access denied for hotel ${hotelId}`,
    };
    return otaErrors(c, [error], 403);
  }
  const rows = await stub.pullPending(hotelId);
  return xml(
    c,
    buildHotelResNotifRQ({ timestamp: isoTime(Date.now()), reservations: rows.map(toResNotif) }),
  );
});

/** Acknowledgement of pulled reservations (their current revisions). */
bookingCom.post("/ota/OTA_HotelResNotifRS", async (c) => {
  const read = await readOta(c, "OTA_HotelResNotifRS");
  if (!read.parsed) return read.response;
  const { root, echoToken } = read.parsed;
  const ack = readAcknowledgement(root);
  const timestamp = isoTime(Date.now());
  // An RS carrying <Errors> reports that the client could not store them: nothing is acknowledged.
  if (!ack.success) return xml(c, buildOtaSuccess("OTA_HotelResNotifRS", { timestamp, echoToken }));
  if (ack.ids.length === 0) {
    const error = {
      type: 3,
      code: "321",
      shortText: "REQUIRED_FIELD_MISSING",
      message: "No HotelReservationID to acknowledge",
    };
    return otaErrors(c, [error], 200, echoToken);
  }
  const result = await platformState(c.env, "booking_com").acknowledge(ack.ids);
  const warnings = result.refused.map((r) => ({
    type: 3,
    code: "320",
    shortText: "NOT_ACKNOWLEDGED",
    message: `${r.id}: ${r.reason}`,
  }));
  return xml(c, buildOtaSuccess("OTA_HotelResNotifRS", { timestamp, echoToken, warnings }));
});

/**
 * The rooms and rate plans of a hotel that authorised the channel. An unknown hotel and one that
 * has not authorised it answer the same 403: Booking.com does not tell them apart.
 */
bookingCom.post("/hotels/xml/roomrates", async (c) => {
  const raw = await c.req.text();
  if (!isXml(c.req.header("content-type"))) {
    return bxmlError(c, 415, "Content-Type must be application/xml");
  }
  const req = parseRoomRatesRequest(raw);
  if (!req.ok) return bxmlError(c, 400, req.message);
  const hotel = await platformState(c.env, "booking_com").bookingHotel(req.hotelId);
  if (!hotel?.authorised) return bxmlError(c, 403, `Access denied for hotel ${req.hotelId}`);
  return xml(c, buildRoomRates(hotel.rooms));
});

bookingCom.all("*", (c) =>
  otaErrors(
    c,
    [{ type: 12, code: "450", shortText: "NOT_FOUND", message: "Unknown endpoint" }],
    404,
  ),
);
