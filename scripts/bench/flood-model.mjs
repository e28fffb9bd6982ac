// The flood's pure parts: the seeded changes, the PUT requests that carry them, the fewest calls
// each platform needs for what changed, and the floors convergence is compared with.
import { PLATFORMS } from "./platforms/index.mjs";

const DAY_MS = 86_400_000;

export const FLOOD_TARGETS = { callsRatioMax: 1.1, convergenceRatioMax: 1.2, rateLimited: 0 };
/** Nights per PUT /calendar request the bench sends (the API takes up to 1000). */
export const NIGHTS_PER_REQUEST = 100;

// ---- dates (ISO strings, day arithmetic in UTC) ----

const toMs = (date) => Date.parse(`${date}T00:00:00Z`);
export const addDays = (date, n) => new Date(toMs(date) + n * DAY_MS).toISOString().slice(0, 10);
export const daysBetween = (from, to) => Math.round((toMs(to) - toMs(from)) / DAY_MS);

/** Today's date at the property, YYYY-MM-DD ("en-CA" formats dates that way). */
export function localToday(timeZone, nowMs = Date.now()) {
  return new Date(nowMs).toLocaleDateString("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  });
}

export const round = (n, digits = 2) =>
  n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits;

/** "185.00" → 18500 (two decimals: EUR); null stays null. */
export function decimalToMinor(value) {
  if (value === null || value === undefined) return null;
  const [whole, fraction = ""] = String(value).split(".");
  return Number(whole) * 100 + Number(`${fraction}00`.slice(0, 2));
}

// ---- the changes ----

/** mulberry32: a small seeded PRNG, so a run can be repeated change for change. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` single-date changes over `days` dates from `first`: about half availability (blocked 0
 * or 1), half price (90.00 to 300.00 in steps of 1.00, in minor units).
 */
export function generateChanges({ count, seed, first, days }) {
  const rand = prng(seed);
  return Array.from({ length: count }, () => {
    const date = addDays(first, Math.floor(rand() * days));
    return rand() < 0.5
      ? { date, blocked: rand() < 0.5 ? 0 : 1 }
      : { date, price_minor: 9000 + 100 * Math.floor(rand() * 211) };
  });
}

/**
 * PUT bodies of at most `maxNights` nights with unique dates each: the n-th change of a date goes
 * into the n-th layer, layers in order, each cut into requests. (The requests are then fired all
 * at once, so which of two changes of one date lands last is up to the engine: the final truth is
 * read back from it.)
 */
export function buildRequests(changes, maxNights = NIGHTS_PER_REQUEST) {
  const layers = [];
  const seen = new Map();
  for (const change of changes) {
    const n = seen.get(change.date) ?? 0;
    seen.set(change.date, n + 1);
    (layers[n] ??= []).push(change);
  }
  const requests = [];
  for (const layer of layers) {
    for (let i = 0; i < layer.length; i += maxNights) requests.push(layer.slice(i, i + maxNights));
  }
  return requests;
}

// ---- the fewest calls, and the floors ----

/**
 * Minimum calls per platform and aspect over the changed dates' final truth, by each platform's
 * request-size rules (its descriptor, on the shared model in scripts/lib/push-minimum.mjs), not by
 * the engine's adapters: the bench checks the engine, it does not reuse it.
 */
export function minimumCalls(changed, truth) {
  const nightsOf = (dates) => [...dates].sort().map((date) => truth.get(date));
  return Object.fromEntries(
    PLATFORMS.map((p) => {
      const { availability, price } = p.minimumCalls(changed, nightsOf);
      return [p.id, { availability, price, total: availability + price }];
    }),
  );
}

/** Time the published limit needs to accept `calls` at its sustained rate (credits: per cost). */
export function rateLimitFloorMs(calls, limit) {
  return (calls * (limit.costPerCall ?? 1) * limit.windowMs) / limit.capacity;
}

/**
 * The fastest any engine could converge: the first call no sooner than one change alone takes
 * through the same pipeline (measured in the same run), the others no faster than the published
 * limit's sustained rate.
 */
export function convergenceFloorMs(calls, limit, baselineMs) {
  return baselineMs + rateLimitFloorMs(Math.max(0, calls - 1), limit);
}
