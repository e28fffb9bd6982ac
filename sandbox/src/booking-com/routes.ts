import { type Context, Hono } from "hono";
import type { AppEnv } from "../kit/app-env";
import { isoTime } from "../kit/dates";
import { apiGate, authLatency, requestLog } from "../kit/gate";
import { readOAuthParams } from "../kit/http";
import type { ReservationRow } from "../kit/store/types";
import { platformState } from "../platform-state";
import { type AriValidation, validateAvailNotif, validateRateAmountNotif } from "./ari";
import { mintJwt } from "./jwt";
import { bookingProfile, bxmlError, MINT_LIMIT, otaErrors, TOKEN_TTL_S, xml } from "./profile";
import { RES_STATUS } from "./reservation-json";
import { buildRoomRates, parseRoomRatesRequest } from "./roomrates";
import {
  parseOtaRequest,
  readAcknowledgement,
  readAvailNotif,
  readRateAmountNotif,
} from "./ota-parse";
import { buildHotelResNotifRQ, buildOtaSuccess, type ResNotifReservation } from "./ota-xml";

export const bookingRoutes = new Hono<AppEnv>();

const state = (c: Context<AppEnv>) => platformState(c.env, bookingProfile.name);

bookingRoutes.use("*", requestLog(bookingProfile.name));

/** Client-credentials grant; the token is a JWT valid one hour. */
bookingRoutes.post("/oauth/token", async (c) => {
  const stub = state(c);
  await authLatency(c.env, bookingProfile.name);
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

bookingRoutes.use("/ota/*", apiGate(bookingProfile));
bookingRoutes.use("/hotels/xml/*", apiGate(bookingProfile));

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
  const stub = state(c);
  const now = Date.now();
  // A hotel that has not authorised the channel is refused as an unknown one (no rooms).
  const rooms = async (hotelId: string | undefined) => {
    const hotel = await stub.hotel(hotelId ?? "");
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

bookingRoutes.post("/ota/OTA_HotelAvailNotif", (c) => ariEndpoint(c, "OTA_HotelAvailNotifRQ"));
bookingRoutes.post("/ota/OTA_HotelRateAmountNotif", (c) =>
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
bookingRoutes.get("/ota/OTA_HotelResNotif", async (c) => {
  const hotelId = c.req.query("hotel_id") || null;
  const stub = state(c);
  if (hotelId && !(await stub.hotel(hotelId))?.authorised) {
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
bookingRoutes.post("/ota/OTA_HotelResNotifRS", async (c) => {
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
  const result = await state(c).acknowledge(ack.ids);
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
bookingRoutes.post("/hotels/xml/roomrates", async (c) => {
  const raw = await c.req.text();
  if (!isXml(c.req.header("content-type"))) {
    return bxmlError(c, 415, "Content-Type must be application/xml");
  }
  const req = parseRoomRatesRequest(raw);
  if (!req.ok) return bxmlError(c, 400, req.message);
  const hotel = await state(c).hotel(req.hotelId);
  if (!hotel?.authorised) return bxmlError(c, 403, `Access denied for hotel ${req.hotelId}`);
  return xml(c, buildRoomRates(hotel.rooms));
});

bookingRoutes.all("*", (c) =>
  otaErrors(
    c,
    [{ type: 12, code: "450", shortText: "NOT_FOUND", message: "Unknown endpoint" }],
    404,
  ),
);
