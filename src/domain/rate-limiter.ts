/**
 * The per-connection rate limiter of the ChannelGate: a token bucket whose tokens come back one
 * window after the call that spent them finished. That makes it a rolling window, never more than
 * `capacity` (in calls, or credits for Beds24) in any `windowMs` as the platform counts them:
 * a call reaches the platform no later than its answer comes back, and the next call leaves no
 * earlier than that plus the window, whatever the network latency in between.
 *
 * A call that has no answer yet keeps its token however long it is out (the platform may count
 * it late); only an answer that never comes (the gate died mid-call) stops holding it, after
 * IN_FLIGHT_MAX_MS.
 *
 * The platform knows better than this estimate, so what it says overrides it: `Retry-After`
 * blocks calls until then, quota headers (Beds24: remaining credits and seconds to reset) cap
 * what is left, and the real cost of a call (`x-request-cost`) replaces the estimated one.
 *
 * Pure: state in, state out, time passed in. The gate keeps the state in its SQLite storage.
 */

export interface RateLimit {
  /** Calls (or credits) allowed in any rolling window. */
  capacity: number;
  windowMs: number;
  /** Share of the capacity kept for inbound calls (fetching a new booking beats a push). */
  reserve: number;
}

export interface Spend {
  id: string;
  /** When the call finished (or, while in flight, started): its tokens return at + windowMs. */
  at: number;
  cost: number;
  /** Taken, not settled yet: the call has no answer. */
  inFlight?: boolean;
  /** Whose share it used (see available()); absent: bulk, which uses no reserve. */
  priority?: Priority;
}

export interface Quota {
  /** What the platform said was left, and when it said so. */
  remaining: number;
  observedAt: number;
  resetsAt: number;
  /** The call whose answer carried it: the platform's count already includes that one. */
  spendId?: string;
}

/** Past this, a call still marked in flight is taken to have died with its gate. */
export const IN_FLIGHT_MAX_MS = 120_000;

/** When a spend's tokens come back to the bucket. */
export function returnsAt(spend: Spend, limit: RateLimit): number {
  return spend.at + limit.windowMs + (spend.inFlight ? IN_FLIGHT_MAX_MS : 0);
}

/** Spends the platform had not counted yet when it reported the quota. */
function countsAgainst(quota: Quota, spend: Spend): boolean {
  return spend.id !== quota.spendId && (spend.at >= quota.observedAt || spend.inFlight === true);
}

export interface LimiterState {
  spends: Spend[];
  /** No call before this (Retry-After, or a 429 without one). */
  blockedUntil: number;
  quota: Quota | null;
}

export const EMPTY_LIMITER: LimiterState = { spends: [], blockedUntil: 0, quota: null };

/**
 * Who may use which tokens: inbound calls (a new booking to fetch) all of them; outbound calls
 * (a push closing a sold night, acknowledgements) all but the inbound reserve; bulk pushes (the
 * owner's calendar, prices) also leave the urgent reserve.
 */
export type Priority = "inbound" | "outbound" | "bulk";

/**
 * What bulk pushes leave for urgent ones on a long window: five calls (Booking.com: 5 of 20 a
 * minute), never more than a quarter of the limit.
 */
export const URGENT_RESERVE_CALLS = 5;
export const URGENT_RESERVE_SHARE = 0.25;
/**
 * Windows shorter than this give tokens back soon enough for a sold night to wait for one; only
 * longer ones (Booking.com's minute, Beds24's five) keep an urgent reserve.
 */
export const URGENT_RESERVE_MIN_WINDOW_MS = 10_000;

/**
 * Drop a quota the platform has reset, and spends whose tokens are back unless that quota (which
 * may outlast our window) still counts them.
 */
export function prune(state: LimiterState, limit: RateLimit, now: number): LimiterState {
  const quota = state.quota && now < state.quota.resetsAt ? state.quota : null;
  const spends = state.spends.filter(
    (s) => now < returnsAt(s, limit) || (quota !== null && countsAgainst(quota, s)),
  );
  return { spends, blockedUntil: state.blockedUntil, quota };
}

/**
 * Tokens free now for a call of this priority. A reserve is a share of each window kept for its
 * calls: what they have not used of it in the window is held back from the calls below them
 * (outbound leaves the inbound reserve, bulk both), and what they used is theirs already, so it
 * is not held back twice. Inbound pulls then do not shrink the pushes' share, nor a booking's
 * urgent pushes the flood's: bulk gets the capacity less what the others used or may still use.
 */
export function available(
  state: LimiterState,
  limit: RateLimit,
  now: number,
  priority: Priority = "outbound",
): number {
  const s = prune(state, limit, now);
  const inWindow = s.spends.filter((x) => now < returnsAt(x, limit));
  let free = limit.capacity - sum(inWindow.map((x) => x.cost));
  const quota = s.quota;
  if (quota) {
    const since = sum(s.spends.filter((x) => countsAgainst(quota, x)).map((x) => x.cost));
    free = Math.min(free, quota.remaining - since);
  }
  const unused = (p: Priority, size: number) =>
    Math.max(0, size - sum(inWindow.filter((x) => x.priority === p).map((x) => x.cost)));
  const inboundLeft = priority === "inbound" ? 0 : unused("inbound", reserveOf(limit));
  const urgentLeft = priority === "bulk" ? unused("outbound", urgentReserveOf(limit)) : 0;
  return free - inboundLeft - urgentLeft;
}

export function reserveOf(limit: RateLimit): number {
  if (limit.reserve <= 0 || limit.capacity < 2) return 0;
  return Math.max(1, Math.floor(limit.capacity * limit.reserve));
}

/**
 * Tokens bulk pushes leave for urgent ones (a night a booking sold), on a long window only:
 * a flood would otherwise spend the whole window in its first burst and a booking made a second
 * later would wait for most of it. At least one, and never the last token bulk has.
 */
export function urgentReserveOf(limit: RateLimit): number {
  if (limit.windowMs < URGENT_RESERVE_MIN_WINDOW_MS) return 0;
  const share = Math.floor(limit.capacity * URGENT_RESERVE_SHARE);
  const room = limit.capacity - reserveOf(limit) - 1;
  return Math.max(0, Math.min(room, Math.max(1, Math.min(URGENT_RESERVE_CALLS, share))));
}

/**
 * How long until a call costing `cost` may leave: 0 means now. Waits for Retry-After, then for
 * enough spends to age out of the window (or for the platform's quota to reset).
 */
export function waitMs(
  state: LimiterState,
  limit: RateLimit,
  cost: number,
  now: number,
  priority: Priority = "outbound",
): number {
  if (now < state.blockedUntil) return state.blockedUntil - now;
  if (available(state, limit, now, priority) >= cost) return 0;
  // Try the moments tokens come back, in order; the first where the call fits is the answer.
  const s = prune(state, limit, now);
  const moments = [
    ...s.spends.map((x) => returnsAt(x, limit)),
    ...(s.quota ? [s.quota.resetsAt] : []),
  ].sort((a, b) => a - b);
  for (const t of moments) {
    if (t <= now) continue;
    if (available(state, limit, t, priority) >= cost) return t - now;
  }
  // Never fits (cost above capacity): one full window, then the call goes alone.
  return limit.windowMs;
}

/**
 * How long after a call the next push should wait under sustained load, so the outbound tokens
 * left last until tokens start coming back: that time spread over those tokens, capped at
 * `capMs` (the latency the gate accepts to save budget). A lone change still goes at once; a
 * stream of them on a tight limit (Booking.com's 20 a minute) gets fuller, fewer calls instead of
 * emptying the bucket in a few seconds and waiting most of a minute.
 */
export function pacingMs(
  state: LimiterState,
  limit: RateLimit,
  now: number,
  capMs: number,
  priority: Priority = "outbound",
): number {
  const free = available(state, limit, now, priority);
  const s = prune(state, limit, now);
  const returning = s.spends.map((x) => returnsAt(x, limit)).filter((t) => t > now);
  if (free < 1 || returning.length === 0) return 0; // nothing to spread (waitMs rules)
  return Math.min(capMs, Math.max(0, (Math.min(...returning) - now) / free));
}

/** Take the tokens for a call that is leaving now (in flight, at its start, until settled). */
export function take(
  state: LimiterState,
  limit: RateLimit,
  spend: Spend,
  now: number,
): LimiterState {
  const s = prune(state, limit, now);
  return { ...s, spends: [...s.spends, { ...spend, inFlight: true }] };
}

export interface CallOutcome {
  /** When the answer came back (or the call was given up). */
  finishedAt: number;
  /** HTTP status, when there was an answer. */
  status?: number;
  /** Seconds the platform asked us to wait (Retry-After), if it did. */
  retryAfterSeconds?: number;
  /** Credits the call really cost (x-request-cost). */
  cost?: number;
  /** Credits left and seconds until the platform's window resets (x-five-min-limit-*). */
  remaining?: number;
  resetsInSeconds?: number;
}

/** Settle a call: its tokens return one window after it finished; the platform's word wins. */
export function settle(
  state: LimiterState,
  limit: RateLimit,
  spendId: string,
  outcome: CallOutcome,
): LimiterState {
  const now = outcome.finishedAt;
  const spends = state.spends.map((s) =>
    s.id === spendId
      ? {
          id: s.id,
          at: Math.max(s.at, now),
          cost: outcome.cost !== undefined ? outcome.cost : s.cost,
          ...(s.priority ? { priority: s.priority } : {}),
        }
      : s,
  );
  let blockedUntil = state.blockedUntil;
  if (outcome.retryAfterSeconds !== undefined) {
    blockedUntil = Math.max(blockedUntil, now + outcome.retryAfterSeconds * 1000);
  } else if (outcome.status === 429) {
    // Told to slow down without a time: our estimate was wrong, so wait a whole window.
    blockedUntil = Math.max(blockedUntil, now + limit.windowMs);
  }
  let quota = state.quota;
  if (outcome.remaining !== undefined) {
    const resetsAt =
      outcome.resetsInSeconds !== undefined
        ? now + outcome.resetsInSeconds * 1000
        : now + limit.windowMs;
    // The platform's count includes this call; any other from here on (or still out) is new.
    quota = { remaining: outcome.remaining, observedAt: now, resetsAt, spendId };
  }
  return prune({ spends, blockedUntil, quota }, limit, now);
}

/** Read the platform's limit headers (lower-case names; costs may be fractional). */
export function limitHeaders(
  headers: Headers,
): Pick<CallOutcome, "cost" | "remaining" | "resetsInSeconds"> {
  const num = (name: string): number | undefined => {
    const raw = headers.get(name);
    if (raw === null || raw.trim() === "") return undefined;
    const n = Number(raw);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  };
  const out: Pick<CallOutcome, "cost" | "remaining" | "resetsInSeconds"> = {};
  const cost = num("x-request-cost");
  const remaining = num("x-five-min-limit-remaining");
  const resets = num("x-five-min-limit-resets-in");
  if (cost !== undefined) out.cost = cost;
  if (remaining !== undefined) out.remaining = remaining;
  if (resets !== undefined) out.resetsInSeconds = resets;
  return out;
}

function sum(xs: number[]): number {
  let t = 0;
  for (const x of xs) t += x;
  return t;
}
