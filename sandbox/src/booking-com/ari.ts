import { daysBetween, isIsoDate, isTooFarInPast } from "../kit/dates";
import type { DayPatch, DayWrite, UnitRow } from "../kit/store/types";
import type { RawAriRequest, RawAvailMessage, RawControl, RawRateMessage } from "./ota-parse";
import type { OtaError } from "./ota-xml";

/** "About a month per request": earliest Start to latest End, both inclusive. */
export const MAX_SPAN_DAYS = 31;

const err = (code: string, shortText: string, message: string): OtaError => ({
  type: 3,
  code,
  shortText,
  message,
});

export type AriValidation = { ok: true; writes: DayWrite[] } | { ok: false; errors: OtaError[] };

function checkControl(
  c: RawControl,
  where: string,
  hotelId: string,
  rooms: Map<string, UnitRow>,
  nowMs: number,
  errors: OtaError[],
): c is RawControl & { start: string; end: string; roomId: string } {
  const before = errors.length;
  if (c.count !== 1) {
    errors.push(
      err(
        "321",
        "REQUIRED_FIELD_MISSING",
        `${where}: exactly one StatusApplicationControl is required`,
      ),
    );
    return false;
  }
  for (const [name, value] of [
    ["Start", c.start],
    ["End", c.end],
  ] as const) {
    if (!isIsoDate(value)) {
      errors.push(
        err("15", "NOT_A_VALID_DATE", `${where}: ${name} "${value ?? ""}" is not a valid date`),
      );
    } else if (isTooFarInPast(value, nowMs)) {
      errors.push(
        err(
          "15",
          "NOT_A_VALID_DATE",
          `${where}: ${name} ${value} is more than one day in the past`,
        ),
      );
    }
  }
  if (isIsoDate(c.start) && isIsoDate(c.end) && c.end < c.start) {
    errors.push(
      err(
        "15",
        "FROM_DATE_SHOULD_BE_LESS_THAN_TO_DATE",
        `${where}: End ${c.end} is before Start ${c.start}`,
      ),
    );
  }
  const room = c.roomId ? rooms.get(c.roomId) : undefined;
  if (!room) {
    errors.push(
      err(
        "402",
        "INVALID_ROOM_TYPE",
        `${where}: InvTypeCode "${c.roomId ?? ""}" is not a room of hotel ${hotelId}`,
      ),
    );
  } else if (c.ratePlanId && room.rate_plan_id && c.ratePlanId !== room.rate_plan_id) {
    errors.push(
      err(
        "249",
        "INVALID_RATE_CODE",
        `${where}: RatePlanCode "${c.ratePlanId}" is not a rate plan of room ${room.unit_id}`,
      ),
    );
  }
  return errors.length === before;
}

/**
 * Shared checks of an ARI request (one hotel, known rooms, valid dates within a month), then each
 * message is turned into a calendar write by `toPatch`. All or nothing: any error applies nothing.
 */
function validateAri<M extends RawControl>(
  req: RawAriRequest<M>,
  container: string,
  rooms: UnitRow[],
  nowMs: number,
  toPatch: (m: M, where: string, errors: OtaError[]) => DayPatch | null,
): AriValidation {
  const errors: OtaError[] = [];
  if (req.containers !== 1) {
    return {
      ok: false,
      errors: [
        err(
          "321",
          "REQUIRED_FIELD_MISSING",
          `Exactly one ${container} element (one hotel per request) is required`,
        ),
      ],
    };
  }
  const hotelId = req.hotelCode ?? "";
  if (!hotelId || rooms.length === 0) {
    return {
      ok: false,
      errors: [err("392", "INVALID_HOTEL_CODE", `HotelCode "${hotelId}" is not a known hotel`)],
    };
  }
  if (req.messages.length === 0) {
    return {
      ok: false,
      errors: [err("321", "REQUIRED_FIELD_MISSING", `${container} has no messages`)],
    };
  }
  const byId = new Map(rooms.map((r) => [r.unit_id, r]));
  const writes: DayWrite[] = [];
  req.messages.forEach((m, i) => {
    const where = `message ${i + 1}`;
    const controlOk = checkControl(m, where, hotelId, byId, nowMs, errors);
    const patch = toPatch(m, where, errors);
    if (controlOk && patch) {
      writes.push({
        property_id: hotelId,
        unit_id: m.roomId!,
        start: m.start!,
        end: m.end!,
        patch,
      });
    }
  });
  if (errors.length === 0 && writes.length) {
    const first = writes.reduce((min, w) => (w.start < min ? w.start : min), writes[0]!.start);
    const last = writes.reduce((max, w) => (w.end > max ? w.end : max), writes[0]!.end);
    if (daysBetween(first, last) + 1 > MAX_SPAN_DAYS) {
      errors.push(
        err(
          "320",
          "DATE_RANGE_TOO_LONG",
          `The request spans ${first}..${last}; at most ${MAX_SPAN_DAYS} days per request`,
        ),
      );
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, writes };
}

export function validateAvailNotif(
  req: RawAriRequest<RawAvailMessage>,
  rooms: UnitRow[],
  nowMs: number,
): AriValidation {
  return validateAri(req, "AvailStatusMessages", rooms, nowMs, (m, where, errors) => {
    const patch: DayPatch = {};
    if (m.bookingLimit !== undefined) {
      if (!/^\d{1,4}$/.test(m.bookingLimit)) {
        errors.push(
          err(
            "320",
            "INVALID_VALUE",
            `${where}: BookingLimit "${m.bookingLimit}" is not a non-negative integer`,
          ),
        );
        return null;
      }
      patch.rooms_to_sell = Number(m.bookingLimit);
    }
    if (m.status !== undefined) {
      if (m.status !== "Open" && m.status !== "Close") {
        errors.push(
          err(
            "320",
            "INVALID_VALUE",
            `${where}: RestrictionStatus Status "${m.status}" must be Open or Close`,
          ),
        );
        return null;
      }
      // Arrival/Departure restrictions do not close the night itself; only a Master close does.
      if (!m.restriction || m.restriction === "Master") patch.closed = m.status === "Close";
    }
    return patch;
  });
}

export function validateRateAmountNotif(
  req: RawAriRequest<RawRateMessage>,
  rooms: UnitRow[],
  nowMs: number,
): AriValidation {
  return validateAri(req, "RateAmountMessages", rooms, nowMs, (m, where, errors) => {
    if (!m.amount || !/^\d{1,7}(\.\d{1,2})?$/.test(m.amount)) {
      errors.push(
        err(
          "320",
          "INVALID_VALUE",
          `${where}: BaseByGuestAmt amount "${m.amount ?? ""}" is not a valid amount`,
        ),
      );
      return null;
    }
    if (!m.currency || !/^[A-Z]{3}$/.test(m.currency)) {
      errors.push(
        err(
          "61",
          "INVALID_CURRENCY_CODE",
          `${where}: CurrencyCode "${m.currency ?? ""}" is not an ISO 4217 code`,
        ),
      );
      return null;
    }
    return { price: Number(m.amount).toFixed(2), currency: m.currency };
  });
}
