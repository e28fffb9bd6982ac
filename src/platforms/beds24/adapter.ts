import { z } from "zod";
import { addDays, fromDayNumber, type IsoDate } from "../../domain/dates";
import { joinUrl, platformFetch, readJson } from "../kit/http";
import { minorToDecimal } from "../kit/money";
import { packRuns, runsOf, type CallLimits, type Run } from "../kit/runs";
import { memoryTokenStore, withAccessToken, type TokenSource } from "../kit/token-cache";
import { BEDS24 } from "./id";
import { verifyBeds24Mapping } from "./verify";
import {
  PlatformError,
  type AdapterContext,
  type MappingClaim,
  type NightState,
  type PlannedCall,
  type PlatformAdapter,
  type PushPlan,
  type PushTarget,
} from "../contract";

/**
 * Beds24 API v2 adapter, outbound only: availability and prices go out through
 * `POST /inventory/rooms/calendar`; booking import and webhooks are not supported yet, so the
 * module (index.ts) declares push only. Sources: shared/PROTOCOLS.md ("Beds24 (API v2, JSON)");
 * see README.md here.
 */

const PLATFORM = BEDS24;
/** One call carries at most a year of nights and a few hundred ranges: a sane request size. */
const MAX_NIGHTS_PER_CALL = 366;
const MAX_ENTRIES_PER_CALL = 200;
const CALL_LIMITS: CallLimits = { maxOps: MAX_ENTRIES_PER_CALL, maxNights: MAX_NIGHTS_PER_CALL };
const DAY_MS = 86_400_000;

const tokenSchema = z.object({ token: z.string().min(1), expiresIn: z.number().positive() });
const setupSchema = tokenSchema.extend({ refreshToken: z.string().min(1) });

/** A calendar POST answers one result per room item; `success: false` names what was refused. */
const calendarAnswerSchema = z.array(
  z.looseObject({
    success: z.boolean(),
    errors: z.array(z.looseObject({ message: z.string().optional() })).optional(),
  }),
);

export interface CalendarEntry {
  from: IsoDate;
  /** Inclusive. */
  to: IsoDate;
  numAvail?: number;
  /** price1 … price16: the room's daily price slots (the mapped rate plan names the slot). */
  [priceSlot: `price${number}`]: number;
}

export interface CalendarItem {
  roomId: number;
  calendar: CalendarEntry[];
}

/**
 * Beds24 refuses dates before yesterday like the OTAs do; a night the gate still holds from
 * before then is not sent (the gate drops it at its next flush anyway).
 */
export function earliestAcceptedDate(nowMs: number): IsoDate {
  return addDays(fromDayNumber(Math.floor(nowMs / DAY_MS)), -1);
}

/** Availability entries: numAvail = units still sellable (never negative), equal runs merged. */
export function availabilityCalls(nights: readonly NightState[]): Run<number>[][] {
  const runs = runsOf(
    nights.map((n) => ({ date: n.date, value: Math.max(0, n.available) })),
    String,
  );
  return packRuns(runs, CALL_LIMITS);
}

/** Price entries over the nights that carry a price, equal runs merged. */
export function priceCalls(nights: readonly NightState[]): Run<number>[][] {
  const priced = nights.flatMap((n) =>
    n.priceMinor !== undefined && n.currency
      ? [{ date: n.date, value: Number(minorToDecimal(n.priceMinor, n.currency)) }]
      : [],
  );
  return packRuns(runsOf(priced, String), CALL_LIMITS);
}

/** The price slot a rate plan mapping names ("1" … "16"); price1 when none is mapped. */
function priceSlot(target: PushTarget): `price${number}` | null {
  const slot = target.externalRatePlanId ?? "1";
  return /^(?:[1-9]|1[0-6])$/.test(slot) ? `price${Number(slot)}` : null;
}

function tokenSource(ctx: AdapterContext): TokenSource {
  const { clientId, refreshToken, account } = ctx.credentials;
  return {
    platform: PLATFORM,
    baseUrl: ctx.baseUrl,
    clientId,
    account,
    now: ctx.now,
    mint: async () => {
      if (!refreshToken) {
        throw new PlatformError(
          PLATFORM,
          "auth",
          "no refresh token: set the connection's credentials refresh_token (or BEDS24_REFRESH_TOKEN)",
        );
      }
      const body = await authCall(ctx, "/authentication/token", { refreshToken });
      const parsed = tokenSchema.safeParse(body);
      if (!parsed.success) throw new PlatformError(PLATFORM, "permanent", "malformed token answer");
      return { accessToken: parsed.data.token, expiresInSeconds: parsed.data.expiresIn };
    },
  };
}

/**
 * An authentication call (GET with the credential in a header). A 400 is a refused invite code or
 * refresh token: the credentials need attention, so it is "auth", not "permanent".
 */
async function authCall(
  ctx: Pick<AdapterContext, "baseUrl" | "fetch" | "now" | "credentials">,
  path: string,
  headers: Record<string, string>,
): Promise<unknown> {
  let res: Response;
  try {
    res = await platformFetch(ctx, PLATFORM, joinUrl(ctx.baseUrl, path), {
      method: "GET",
      headers: { accept: "application/json", ...headers },
    });
  } catch (err) {
    if (err instanceof PlatformError && err.kind === "permanent" && err.status === 400) {
      throw new PlatformError(PLATFORM, "auth", `${path} refused (HTTP 400)`, 400);
    }
    throw err;
  }
  return readJson(PLATFORM, res);
}

/**
 * Exchange a Beds24 invite code (made once in the Beds24 UI) for the refresh token to store as the
 * connection's credentials `refresh_token`. The code is single use.
 */
export async function exchangeInviteCode(
  ctx: Pick<AdapterContext, "baseUrl" | "fetch" | "now" | "credentials">,
  code: string,
): Promise<{ refreshToken: string; token: string; expiresInSeconds: number }> {
  const parsed = setupSchema.safeParse(await authCall(ctx, "/authentication/setup", { code }));
  if (!parsed.success) throw new PlatformError(PLATFORM, "permanent", "malformed setup answer");
  return {
    refreshToken: parsed.data.refreshToken,
    token: parsed.data.token,
    expiresInSeconds: parsed.data.expiresIn,
  };
}

/** A call with header `token`; after an "auth" failure, one new token and one retry. */
function apiFetch(ctx: AdapterContext, url: string, init: RequestInit): Promise<Response> {
  return withAccessToken(
    tokenSource(ctx),
    (token) => {
      const headers = new Headers(init.headers);
      headers.set("accept", "application/json");
      headers.set("token", token);
      return platformFetch(ctx, PLATFORM, url, { ...init, headers });
    },
    ctx.tokens ?? memoryTokenStore,
  );
}

async function postCalendar(ctx: AdapterContext, items: CalendarItem[]): Promise<void> {
  const res = await apiFetch(ctx, joinUrl(ctx.baseUrl, "/inventory/rooms/calendar"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(items),
  });
  const parsed = calendarAnswerSchema.safeParse(await readJson(PLATFORM, res));
  if (!parsed.success || parsed.data.length !== items.length) {
    throw new PlatformError(PLATFORM, "permanent", "malformed calendar answer", res.status);
  }
  const refused = parsed.data.flatMap((r, i) =>
    r.success
      ? []
      : [
          `room ${items[i]?.roomId}: ${(r.errors ?? []).map((e) => e.message ?? "refused").join("; ") || "refused"}`,
        ],
  );
  if (refused.length > 0) {
    throw new PlatformError(PLATFORM, "permanent", `calendar refused: ${refused.join(" | ")}`);
  }
}

function datesOf(runs: readonly Run<unknown>[]): IsoDate[] {
  const out: IsoDate[] = [];
  for (const r of runs) for (let d = r.start; d <= r.end; d = addDays(d, 1)) out.push(d);
  return out;
}

/**
 * Availability calls first (a sold night closes before any price moves), then prices; each call
 * is one room with up to 200 ranges and 366 nights. An availability entry carries only numAvail
 * and a price entry only its price slot, so neither aspect touches the other.
 */
function planPush(
  target: PushTarget,
  dirty: { availability: NightState[]; price: NightState[] },
  now: number,
): PushPlan {
  // Beds24 room ids are integers: a leading zero would name another room once sent as a number.
  const roomId = /^[1-9]\d{0,9}$/.test(target.externalRoomId)
    ? Number(target.externalRoomId)
    : null;
  if (roomId === null) {
    const reason = `Beds24 room ids are integers of 1-10 digits, mapped "${target.externalRoomId}"`;
    return {
      calls: [],
      skipped: [
        ...(dirty.availability.length ? [{ aspect: "availability" as const, reason }] : []),
        ...(dirty.price.length ? [{ aspect: "price" as const, reason }] : []),
      ],
    };
  }
  const cutoff = earliestAcceptedDate(now);
  const sendable = (nights: NightState[]) => nights.filter((n) => n.date >= cutoff);
  const call = (
    aspect: PlannedCall["aspect"],
    runs: Run<number>[],
    entry: (r: Run<number>) => CalendarEntry,
  ): PlannedCall => {
    const items = [{ roomId, calendar: runs.map(entry) }];
    return {
      aspect,
      dates: datesOf(runs),
      label: `POST calendar room ${roomId} ${aspect} ${runs[0]?.start}..${runs.at(-1)?.end} (${runs.length} ranges)`,
      content: `POST /inventory/rooms/calendar ${JSON.stringify(items)}`,
      send: (ctx) => postCalendar(ctx, items),
    };
  };
  const calls = availabilityCalls(sendable(dirty.availability)).map((runs) =>
    call("availability", runs, (r) => ({ from: r.start, to: r.end, numAvail: r.value })),
  );
  const skipped: PushPlan["skipped"] = [];
  const slot = priceSlot(target);
  const prices = sendable(dirty.price);
  if (slot) {
    for (const runs of priceCalls(prices)) {
      calls.push(
        call("price", runs, (r) => {
          const entry: CalendarEntry = { from: r.start, to: r.end };
          entry[slot] = r.value;
          return entry;
        }),
      );
    }
  } else if (prices.length > 0) {
    skipped.push({
      aspect: "price",
      reason: `Beds24 rate plans are price slots 1-16, mapped "${target.externalRatePlanId}"`,
    });
  }
  return { calls, skipped };
}

export const beds24Adapter = {
  platform: PLATFORM,
  maxNightsPerCall: MAX_NIGHTS_PER_CALL,
  planPush,
  verifyMapping: (ctx: AdapterContext, claim: MappingClaim) =>
    verifyBeds24Mapping(ctx, claim, apiFetch),
} satisfies PlatformAdapter;
