import { z } from "zod";
import { AIRBNB } from "./id";
import { addDays, isIsoDate } from "../../domain/dates";
import { joinUrl, readJson } from "../kit/http";
import { decimalToMinor, minorToDecimal } from "../kit/money";
import { packRuns, runsOf, type CallLimits, type Run } from "../kit/runs";
import { verifyAirbnbMapping } from "./verify";
import {
  authorisedFetch,
  memoryTokenStore,
  requestToken,
  type TokenSource,
} from "../kit/token-cache";
import {
  PlatformError,
  type AdapterContext,
  type ChannelBooking,
  type MappingClaim,
  type NightState,
  type PlannedCall,
  type PlatformAdapter,
  type PulledBookings,
  type PushPlan,
  type PushTarget,
  type WebhookHint,
} from "../contract";

/**
 * Airbnb partner API adapter. Airbnb's API is not public: the contract is the seeds and
 * shared/PROTOCOLS.md (README.md here gives the source of each behaviour).
 */

const PLATFORM = AIRBNB;
const MAX_NIGHTS_PER_CALL = 366;
const MAX_OPERATIONS_PER_CALL = 50;
const CALL_LIMITS: CallLimits = { maxOps: MAX_OPERATIONS_PER_CALL, maxNights: MAX_NIGHTS_PER_CALL };

const isoDate = z.string().refine(isIsoDate, "expected a YYYY-MM-DD date");
const isoDateTime = z.iso.datetime({ offset: true });
const listingId = z.string().regex(/^\d+$/, "expected a numeric listing id");
const confirmationCode = z.string().regex(/^HM[A-Z0-9]{8}$/, "expected HM + 8 letters/digits");

export const airbnbWebhookSchema = z.object({
  event_id: z.string().min(1),
  event_type: z.enum(["reservation.created", "reservation.updated", "reservation.cancelled"]),
  listing_id: listingId,
  confirmation_code: confirmationCode,
  occurred_at: isoDateTime,
});

const CONFIRMED = ["accepted"] as const;
const CANCELLED = ["cancelled", "denied", "expired"] as const;
// A request awaiting the host's answer holds no inventory yet; its acceptance arrives as an update.
const NOT_YET_BINDING = ["pending"] as const;

export const airbnbReservationSchema = z.object({
  reservation: z
    .object({
      confirmation_code: confirmationCode,
      // Numeric ids are sometimes serialised as numbers; the engine keys them as strings.
      listing_id: z.union([listingId, z.number().int().nonnegative().transform(String)]),
      status: z.enum([...CONFIRMED, ...CANCELLED, ...NOT_YET_BINDING]),
      start_date: isoDate,
      end_date: isoDate,
      guest: z
        .object({ first_name: z.string().nullish(), last_name: z.string().nullish() })
        .nullish(),
      number_of_guests: z.number().int().positive().nullish(),
      total_price: z
        .object({
          amount: z.string().regex(/^\d+(\.\d+)?$/, "expected a decimal string"),
          currency: z.string().regex(/^[A-Z]{3}$/, "expected an ISO 4217 code"),
        })
        .nullish(),
      updated_at: isoDateTime,
    })
    .refine((r) => r.end_date > r.start_date, "end_date must be after start_date"),
});

export type AirbnbReservation = z.infer<typeof airbnbReservationSchema>["reservation"];

/** Map a validated reservation to a ChannelBooking; null while it is not yet binding. */
export function toChannelBooking(r: AirbnbReservation): ChannelBooking | null {
  if ((NOT_YET_BINDING as readonly string[]).includes(r.status)) return null;
  const name = [r.guest?.first_name, r.guest?.last_name].filter(Boolean).join(" ").trim();
  const amountMinor = r.total_price
    ? decimalToMinor(r.total_price.amount, r.total_price.currency)
    : null;
  return {
    platform: PLATFORM,
    channelBookingId: r.confirmation_code,
    externalRoomId: r.listing_id,
    status: r.status === "accepted" ? "confirmed" : "cancelled",
    checkIn: r.start_date,
    checkOut: r.end_date,
    ...(name ? { guestName: name } : {}),
    ...(r.number_of_guests ? { guestCount: r.number_of_guests } : {}),
    ...(amountMinor !== null && r.total_price
      ? { amountMinor, currency: r.total_price.currency }
      : {}),
    revision: Date.parse(r.updated_at),
  };
}

function tokenSource(ctx: AdapterContext): TokenSource {
  const { clientId, clientSecret, refreshToken, account } = ctx.credentials;
  const key = { platform: PLATFORM, baseUrl: ctx.baseUrl, clientId, account };
  const store = ctx.tokens ?? memoryTokenStore;
  return {
    ...key,
    now: ctx.now,
    mint: async () => {
      if (!refreshToken) throw new PlatformError(PLATFORM, "auth", "no refresh token configured");
      const grant = await requestToken(ctx, PLATFORM, joinUrl(ctx.baseUrl, "/oauth2/token"), {
        grant_type: "refresh_token",
        client_id: clientId,
        client_secret: clientSecret,
        // Airbnb may rotate the refresh token on every use: send the newest one known.
        refresh_token: await store.currentRefreshToken(key, refreshToken),
      });
      if (grant.refreshToken)
        await store.rememberRefreshToken(key, refreshToken, grant.refreshToken);
      return grant;
    },
  };
}

function apiFetch(ctx: AdapterContext, url: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("accept", "application/json");
  return authorisedFetch(ctx, tokenSource(ctx), url, { ...init, headers });
}

function parseWebhook(body: unknown): WebhookHint {
  const hook = airbnbWebhookSchema.parse(body);
  return {
    eventId: hook.event_id,
    eventType: hook.event_type,
    externalRoomId: hook.listing_id,
    bookingRef: hook.confirmation_code,
  };
}

async function fetchBookings(ctx: AdapterContext, hint: WebhookHint): Promise<PulledBookings> {
  const code = hint.bookingRef;
  if (!code) throw new PlatformError(PLATFORM, "permanent", "hint carries no confirmation code");
  const url = joinUrl(ctx.baseUrl, `/v2/reservations/${encodeURIComponent(code)}`);
  const res = await apiFetch(ctx, url, { method: "GET" });
  const parsed = airbnbReservationSchema.safeParse(await readJson(PLATFORM, res));
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join(".") || "(root)").join(", ");
    throw new PlatformError(PLATFORM, "permanent", `malformed reservation ${code}: ${where}`);
  }
  const booking = toChannelBooking(parsed.data.reservation);
  return { bookings: booking ? [booking] : [] };
}

export type Availability = "available" | "unavailable";

export interface CalendarOperation {
  start_date: string;
  end_date: string;
  availability: Availability;
}

export interface PricingOperation {
  start_date: string;
  end_date: string;
  nightly_price: string;
  currency: string;
}

interface Price {
  minor: number;
  currency: string;
}

/** Calendar bodies: runs of equal availability, packed into calls within Airbnb's limits. */
export function calendarCalls(nights: readonly NightState[]): CalendarOperation[][] {
  const runs = runsOf(
    nights.map((n) => ({ date: n.date, value: availabilityOf(n) })),
    (v) => v,
  );
  return packRuns(runs, CALL_LIMITS).map((call) =>
    call.map((r) => ({ start_date: r.start, end_date: r.end, availability: r.value })),
  );
}

/** Pricing bodies: runs of equal nightly price over the nights that carry one. */
export function pricingCalls(nights: readonly NightState[]): PricingOperation[][] {
  const priced = nights.flatMap((n) =>
    n.priceMinor !== undefined && n.currency
      ? [{ date: n.date, value: { minor: n.priceMinor, currency: n.currency } }]
      : [],
  );
  const runs: Run<Price>[] = runsOf(priced, (p) => `${p.minor} ${p.currency}`);
  return packRuns(runs, CALL_LIMITS).map((call) =>
    call.map((r) => ({
      start_date: r.start,
      end_date: r.end,
      nightly_price: minorToDecimal(r.value.minor, r.value.currency),
      currency: r.value.currency,
    })),
  );
}

function availabilityOf(night: NightState): Availability {
  return night.available > 0 ? "available" : "unavailable";
}

/**
 * Calendar requests first (a sold night closes before any price moves), then pricing. Each
 * request carries up to 50 runs, so a year of scattered changes is a handful of calls.
 */
function planPush(
  target: PushTarget,
  dirty: { availability: NightState[]; price: NightState[] },
): PushPlan {
  const listing = encodeURIComponent(target.externalRoomId);
  const call = (
    aspect: PlannedCall["aspect"],
    path: "calendar" | "pricing",
    operations: Array<{ start_date: string; end_date: string }>,
  ): PlannedCall => {
    const dates = operations.flatMap((o) => datesOf(o.start_date, o.end_date));
    const resource = `/v2/listings/${listing}/${path}`;
    const body = JSON.stringify({ operations });
    return {
      aspect,
      dates,
      label: `PUT ${path} ${operations[0]?.start_date}..${operations.at(-1)?.end_date} (${operations.length} ops)`,
      content: `PUT ${resource} ${body}`,
      send: async (ctx) => {
        const headers = new Headers({ "content-type": "application/json" });
        if (ctx.idempotencyKey) headers.set("idempotency-key", ctx.idempotencyKey);
        await apiFetch(ctx, joinUrl(ctx.baseUrl, resource), { method: "PUT", headers, body });
      },
    };
  };
  return {
    calls: [
      ...calendarCalls(dirty.availability).map((ops) => call("availability", "calendar", ops)),
      ...pricingCalls(dirty.price).map((ops) => call("price", "pricing", ops)),
    ],
    skipped: [],
  };
}

function datesOf(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}

export const airbnbAdapter = {
  platform: PLATFORM,
  signatureHeader: "x-airbnb-signature",
  maxNightsPerCall: MAX_NIGHTS_PER_CALL,
  parseWebhook,
  fetchBookings,
  planPush,
  verifyMapping: (ctx: AdapterContext, claim: MappingClaim) =>
    verifyAirbnbMapping(ctx, claim, apiFetch),
} satisfies PlatformAdapter;
