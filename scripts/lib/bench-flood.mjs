// Flood for `npm run bench`: a PMS bulk update of many random single-date availability and price
// changes on one property, pushed by the ChannelGates to sandboxes that enforce the platforms'
// published rate limits. Measures, per platform, the calls sent next to the fewest the platform's
// request size allows, and the time to converge next to the floor its rate limit sets.
//
// The minimum calls are computed here from the platforms' request-size rules as the bench states
// them (README), not by importing the engine's adapters: the bench checks the engine, it does not
// reuse it.
import { bookingOnlyCalls, chooseBookingDates } from "./bench-flood-bookings.mjs";
import { measurePropagation } from "./bench-propagation.mjs";
import { DEMO, sandboxCall } from "./stack.mjs";

const DAY_MS = 86_400_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const FLOOD_TARGETS = { callsRatioMax: 1.1, convergenceRatioMax: 1.2, rateLimited: 0 };

/** The published limits (src/domain/gate-settings.ts, sandbox profiles), restated on purpose. */
export const PUBLISHED_LIMITS = {
  airbnb: { capacity: 10, windowMs: 1_000 },
  booking_com: { capacity: 20, windowMs: 60_000 },
  // Credits, not calls: a one-room calendar POST costs 1.1 in the sandbox (sandbox/src/state/beds24-store.ts).
  beds24: { capacity: 100, windowMs: 300_000, costPerCall: 1.1 },
};
/** Airbnb PUT calendar / pricing: at most 50 operations and 366 nights per call. */
export const AIRBNB_CALL_LIMITS = { maxOps: 50, maxNights: 366 };
/** Beds24 POST /inventory/rooms/calendar: one room, ≤ 200 ranges and ≤ 366 nights per call. */
export const BEDS24_CALL_LIMITS = { maxOps: 200, maxNights: 366 };
/** Booking.com OTA_HotelAvailNotif / OTA_HotelRateAmountNotif: one call per ≤31-day window. */
export const BOOKING_WINDOW_DAYS = 31;
/** Nights per PUT /calendar request the bench sends (the API takes up to 1000). */
const NIGHTS_PER_REQUEST = 100;
/** The sandbox keeps the last 500 requests per platform, and /requests returns at most 500. */
const REQUEST_LOG_MAX = 500;
const RECEIVED_LOG_MAX = 200;
/** Bodies read back to tell the bookings' calls from the flood's (the sandbox pages up to 1000). */
const RECEIVED_PAGE_MAX = 1000;
const PLATFORMS = ["airbnb", "booking_com", "beds24"];
const LABEL = { airbnb: "Airbnb", booking_com: "Booking.com", beds24: "Beds24" };
/** The Beds24 side of the lake house, created by the bench when missing (the demo seed has none). */
const BEDS24_HOUSE = { propId: "2400001", roomId: "24000101" };

// ---- dates (ISO strings, day arithmetic in UTC) ----

const toMs = (date) => Date.parse(`${date}T00:00:00Z`);
export const addDays = (date, n) => new Date(toMs(date) + n * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (from, to) => Math.round((toMs(to) - toMs(from)) / DAY_MS);

/** Today's date at the property, YYYY-MM-DD ("en-CA" formats dates that way). */
export function localToday(timeZone, nowMs = Date.now()) {
  return new Date(nowMs).toLocaleDateString("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  });
}

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

// ---- the fewest calls each platform's request size allows ----

/** Maximal runs of consecutive dates with one value; `items` sorted by date, no repeats. */
export function runsOf(items) {
  const runs = [];
  for (const { date, value } of items) {
    const last = runs.at(-1);
    if (last && last.value === value && daysBetween(last.end, date) === 1) {
      last.end = date;
      last.nights += 1;
    } else runs.push({ start: date, end: date, nights: 1, value });
  }
  return runs;
}

/**
 * Airbnb: runs packed greedily into calls of ≤ maxOps runs and ≤ maxNights nights; a run longer
 * than what is left of the call fills it and goes on in the next one.
 */
export function airbnbMinimumCalls(items, limits = AIRBNB_CALL_LIMITS) {
  let calls = 0;
  let ops = 0;
  let nights = 0;
  for (const run of runsOf(items)) {
    let left = run.nights;
    while (left > 0) {
      if (calls === 0 || ops === limits.maxOps || nights === limits.maxNights) {
        calls += 1;
        ops = 0;
        nights = 0;
      }
      const take = Math.min(left, limits.maxNights - nights);
      ops += 1;
      nights += take;
      left -= take;
    }
  }
  return calls;
}

/**
 * Beds24: runs of equal numAvail or price1 (consecutive dates), packed greedily into calls of
 * ≤ 200 ranges and ≤ 366 nights, a run cut where a call is full.
 */
export function beds24MinimumCalls(items, limits = BEDS24_CALL_LIMITS) {
  let calls = 0;
  let ranges = limits.maxOps;
  let nights = limits.maxNights;
  for (const run of runsOf(items)) {
    let left = run.nights;
    while (left > 0) {
      if (ranges === limits.maxOps || nights === limits.maxNights) {
        calls += 1;
        ranges = 0;
        nights = 0;
      }
      const take = Math.min(left, limits.maxNights - nights);
      ranges += 1;
      nights += take;
      left -= take;
    }
  }
  return calls;
}

/** Booking.com: greedy windows, each from the first uncovered date to 30 days after it. */
export function bookingMinimumCalls(dates, windowDays = BOOKING_WINDOW_DAYS) {
  let calls = 0;
  let end = null;
  for (const date of [...dates].sort()) {
    if (end === null || date > end) {
      calls += 1;
      end = addDays(date, windowDays - 1);
    }
  }
  return calls;
}

/** Minimum calls per platform and aspect over the changed dates' final truth. */
export function minimumCalls(changed, truth) {
  const items = (dates, valueOf) =>
    [...dates].sort().map((date) => ({ date, value: valueOf(truth.get(date)) }));
  const avail = items(changed.availability, (n) => n.available > 0);
  const price = items(changed.price, (n) => n.price_minor);
  const airbnb = { availability: airbnbMinimumCalls(avail), price: airbnbMinimumCalls(price) };
  const booking = {
    availability: bookingMinimumCalls(changed.availability),
    price: bookingMinimumCalls(changed.price),
  };
  // Beds24 takes numAvail (units left), not open/closed: runs of the same count.
  const beds24 = {
    availability: beds24MinimumCalls(items(changed.availability, (n) => n.available)),
    price: beds24MinimumCalls(price),
  };
  return {
    airbnb: { ...airbnb, total: airbnb.availability + airbnb.price },
    booking_com: { ...booking, total: booking.availability + booking.price },
    beds24: { ...beds24, total: beds24.availability + beds24.price },
  };
}

/** Time the published limit needs to accept `calls` at its sustained rate (Beds24: in credits). */
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

/**
 * Baseline: one price change on one date, timed from the PUT's answer until each platform shows
 * it (polled like the flood). Returns ms per platform (null if it never showed).
 */
async function measureSingleChange({ api, engineUrl, sandboxUrl, house, date, pollMs, timeoutMs }) {
  const current = (await readTruth(api, house.roomTypeId, date, date)).get(date);
  const price = (current?.price_minor ?? 9000) === 9900 ? 9800 : 9900;
  const res = await fetch(`${engineUrl}/api/v1/room-types/${house.roomTypeId}/calendar`, {
    method: "PUT",
    headers: {
      authorization: `Bearer ${DEMO.tokens.alpineAdmin}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ nights: [{ date, price_minor: price }] }),
  });
  if (res.status !== 200)
    throw new Error(`baseline change refused: ${res.status} ${await res.text()}`);
  const t0 = Date.now();
  const seen = Object.fromEntries(PLATFORMS.map((p) => [p, null]));
  while (PLATFORMS.some((p) => seen[p] === null) && Date.now() < t0 + timeoutMs) {
    await Promise.all(
      PLATFORMS.filter((p) => seen[p] === null).map(async (p) => {
        const cal = await sandboxCall(sandboxUrl, "GET", sandboxCalendarPath(p, house, date, date));
        const day = cal.days.find((d) => d.date === date);
        if (decimalToMinor(day?.price) === price) seen[p] = Date.now() - t0;
      }),
    );
    await sleep(pollMs);
  }
  return seen;
}

/** "185.00" → 18500 (two decimals: EUR); null stays null. */
export function decimalToMinor(value) {
  if (value === null || value === undefined) return null;
  const [whole, fraction = ""] = String(value).split(".");
  return Number(whole) * 100 + Number(`${fraction}00`.slice(0, 2));
}

// ---- the engine and the sandbox ----

function engineApi(engineUrl) {
  return async (method, path, body) => {
    const res = await fetch(`${engineUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${DEMO.tokens.alpineAdmin}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`engine ${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  };
}

const round = (n, digits = 2) => (n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits);

/** The property's connections by platform, with their gates' pending nights. */
async function connectionsOf(api, propertyId) {
  const status = await api("GET", `/api/v1/properties/${propertyId}/channel-status`);
  const out = {};
  for (const c of status.connections) out[c.platform] = c;
  for (const p of PLATFORMS) {
    if (!out[p]) throw new Error(`${propertyId} has no ${p} connection`);
  }
  return out;
}

/** Poll channel-status until both gates hold no pending nights; false after `timeoutMs`. */
async function waitForIdleGates(api, propertyId, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const conns = await connectionsOf(api, propertyId);
    const idle = PLATFORMS.every((p) => conns[p].outbound?.pending_nights === 0);
    if (idle) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

/**
 * The lake house on Beds24, connected the way an operator would: a sandbox room, an invite code
 * exchanged for a refresh token, a connection holding it as its credentials, the room mapped.
 */
async function ensureBeds24Connection(api, sandboxUrl, house) {
  const status = await api("GET", `/api/v1/properties/${house.propertyId}/channel-status`);
  if (status.connections.some((c) => c.platform === "beds24")) return "present";
  // The property belongs to the account the invite code is for: the engine asks Beds24 whether
  // the mapped room is that account's before it maps it.
  const { code, account } = await sandboxCall(
    sandboxUrl,
    "POST",
    "/_sandbox/beds24/invite-codes",
    {},
  );
  await sandboxCall(
    sandboxUrl,
    "PUT",
    `/_sandbox/beds24/properties/${BEDS24_HOUSE.propId}/rooms/${BEDS24_HOUSE.roomId}`,
    { units: 1, price: "150.00", currency: "EUR", account },
  );
  const setup = await fetch(`${sandboxUrl}/beds24/authentication/setup`, { headers: { code } });
  if (!setup.ok) throw new Error(`Beds24 setup → ${setup.status}: ${await setup.text()}`);
  const { refreshToken } = await setup.json();
  const created = await api("POST", "/api/v1/channel-connections", {
    property_id: house.propertyId,
    platform: "beds24",
    external_property_id: BEDS24_HOUSE.propId,
    status: "active",
    credentials: { refresh_token: refreshToken },
  });
  const connectionId = created.data?.id ?? created.id;
  await api("POST", "/api/v1/channel-mappings", {
    connection_id: connectionId,
    mapping_type: "room_type",
    internal_id: house.roomTypeId,
    external_id: BEDS24_HOUSE.roomId,
  });
  return "created";
}

/** Price pushes to Booking.com need the room's rate plan mapped; the demo seed maps it. */
async function ensureRatePlanMapping(api, connectionId, house) {
  const list = await api(
    "GET",
    `/api/v1/channel-mappings?connection_id=${connectionId}&mapping_type=rate_plan&limit=100`,
  );
  if (list.data.some((m) => m.internal_id === house.ratePlan && m.deleted_at === null)) {
    return "present";
  }
  await api("POST", "/api/v1/channel-mappings", {
    connection_id: connectionId,
    mapping_type: "rate_plan",
    internal_id: house.ratePlan,
    external_id: house.ratePlanId,
  });
  return "created";
}

async function readTruth(api, roomTypeId, from, to) {
  const res = await api("GET", `/api/v1/room-types/${roomTypeId}/calendar?from=${from}&to=${to}`);
  return new Map(res.data.map((n) => [n.date, n]));
}

function sandboxCalendarPath(platform, house, start, end) {
  if (platform === "beds24") {
    return (
      `/_sandbox/beds24/properties/${BEDS24_HOUSE.propId}/rooms/${BEDS24_HOUSE.roomId}/calendar` +
      `?start=${start}&end=${end}`
    );
  }
  return platform === "airbnb"
    ? `/_sandbox/airbnb/listings/${house.airbnbListing}/calendar?start=${start}&end=${end}`
    : `/_sandbox/booking_com/hotels/${house.hotelId}/rooms/${house.roomId}/calendar` +
        `?start=${start}&end=${end}`;
}

/**
 * The changed dates the platform's calendar does not show as the engine's truth: availability
 * as sellable or not, prices compared in minor units.
 */
function mismatches(days, changed, truth) {
  const byDate = new Map(days.map((d) => [d.date, d]));
  const wrong = [];
  let lastWrite = null;
  for (const [aspect, dates] of Object.entries(changed)) {
    for (const date of dates) {
      const day = byDate.get(date);
      const want = truth.get(date);
      if (day?.updated_at) lastWrite = Math.max(lastWrite ?? 0, day.updated_at);
      const ok =
        aspect === "availability"
          ? day?.available === want.available > 0
          : decimalToMinor(day?.price) === want.price_minor;
      if (!ok) wrong.push({ date, aspect });
    }
  }
  return { wrong, lastWrite };
}

/** What the platform's request log shows since `since`: ARI calls, 429s, token and other calls. */
function classifyRequests(platform, house, log, { since, floodStart, t0 }) {
  const ariEndpoint = (r) => {
    if (platform === "airbnb") {
      const m = /^\/airbnb\/v2\/listings\/(\d+)\/(calendar|pricing)$/.exec(r.path);
      return r.method === "PUT" && m && m[1] === house.airbnbListing ? m[2] : null;
    }
    // The request log carries no hotel or room id: on the bench stack only this property is flooded.
    if (platform === "beds24") {
      return r.method === "POST" && r.path === "/beds24/inventory/rooms/calendar"
        ? "rooms/calendar"
        : null;
    }
    const m = /^\/booking_com\/ota\/(OTA_HotelAvailNotif|OTA_HotelRateAmountNotif)$/.exec(r.path);
    return r.method === "POST" && m ? m[1] : null;
  };
  const isToken = (r) => /\/oauth2?\/token$|\/authentication\/(token|setup)$/.test(r.path);
  const entries = log.filter((r) => r.at >= since);
  const ari = entries.filter((r) => r.at >= floodStart && ariEndpoint(r));
  const byEndpoint = {};
  for (const r of ari) byEndpoint[ariEndpoint(r)] = (byEndpoint[ariEndpoint(r)] ?? 0) + 1;
  const isRateLimited = (r) => r.status === 429 || r.fault === "enforced_rate_limit";
  return {
    calls: ari.length,
    by_endpoint: byEndpoint,
    accepted: ari.filter((r) => r.status >= 200 && r.status < 300).length,
    failed: ari.filter((r) => r.status >= 300).length,
    before_t0: ari.filter((r) => r.at < t0).length,
    first_call_ms: ari.length ? ari[0].at - t0 : null,
    last_call_ms: ari.length ? ari.at(-1).at - t0 : null,
    rate_limited: entries.filter(isRateLimited).length,
    rate_limited_ari: ari.filter(isRateLimited).length,
    token_calls: entries.filter(isToken).length,
    other_calls: entries.filter((r) => !isToken(r) && !(r.at >= floodStart && ariEndpoint(r)))
      .length,
    // Full log and its oldest entry already inside the part: older calls may have dropped out.
    log_truncated: log.length >= REQUEST_LOG_MAX && log[0].at >= since,
  };
}

/** Booking.com's bodies carry the hotel: which hotels the flood's OTA messages were for. */
function hotelCodes(received, since) {
  const codes = {};
  for (const r of received.filter((x) => x.at >= since && /\/ota\//.test(x.path))) {
    const code = /HotelCode="([^"]*)"/.exec(r.body)?.[1] ?? "(none)";
    codes[code] = (codes[code] ?? 0) + 1;
  }
  return codes;
}

/**
 * The flood. Returns every figure of the part; throws only when the bench itself cannot go on
 * (engine or sandbox unreachable, a setup call refused).
 */
export async function measureFlood({
  engineUrl,
  sandboxUrl,
  count = 1000,
  seed = 1,
  timeoutMs = 180_000,
  pollMs = 100,
  // Airbnb bookings sent while the flood converges: how many, how fast, how long after t0 the
  // first, and the first night they may take (the propagation part books the nights before it).
  bookings = { count: 0, ratePerSecond: 1, delayMs: 3_000, from: null },
  progress = () => {},
}) {
  const house = { ...DEMO.seehaus, ratePlan: "rp_seehaus_standard" };
  const api = engineApi(engineUrl);
  const partStart = Date.now();

  // ---- setup: mappings, enforced limits, idle gates ----
  const beds24Connection = await ensureBeds24Connection(api, sandboxUrl, house);
  const conns = await connectionsOf(api, house.propertyId);
  const ratePlanMapping = await ensureRatePlanMapping(api, conns.booking_com.connection_id, house);
  const property = await api("GET", `/api/v1/properties/${house.propertyId}`);
  const timeZone = property.data?.time_zone ?? property.time_zone ?? "Europe/Berlin";
  const previousFaults = {};
  for (const p of PLATFORMS) {
    const { faults } = await sandboxCall(sandboxUrl, "GET", `/_sandbox/${p}/faults`);
    previousFaults[p] = faults.enforce_rate_limit;
  }
  const restoreFaults = async () => {
    for (const p of PLATFORMS) {
      await sandboxCall(sandboxUrl, "POST", `/_sandbox/${p}/faults`, {
        enforce_rate_limit: previousFaults[p],
      });
    }
  };
  try {
    for (const p of PLATFORMS) {
      await sandboxCall(sandboxUrl, "POST", `/_sandbox/${p}/faults`, { enforce_rate_limit: true });
    }
    if (!(await waitForIdleGates(api, house.propertyId, 60_000))) {
      throw new Error("the gates of prop_seehaus still hold pending nights after 60 s");
    }

    // ---- the changes, and the truth before them ----
    const today = localToday(timeZone);
    const first = addDays(today, 1);
    const last = addDays(today, 364);

    // ---- baseline: one change alone, through the same pipeline ----
    const baseline = await measureSingleChange({
      api,
      engineUrl,
      sandboxUrl,
      house,
      date: first,
      pollMs,
      timeoutMs: 30_000,
    });
    progress(
      `  one change alone reached ${PLATFORMS.map((p) => `${LABEL[p]} in ${baseline[p] ?? "—"} ms`).join(", ")}`,
    );
    if (!(await waitForIdleGates(api, house.propertyId, 60_000))) {
      throw new Error("the gates of prop_seehaus still hold pending nights after the baseline");
    }
    const days = daysBetween(first, last) + 1;
    const changes = generateChanges({ count, seed, first, days });
    const requests = buildRequests(changes);
    const before = await readTruth(api, house.roomTypeId, first, last);

    // ---- the flood: every request at once ----
    progress(`  ${changes.length} changes in ${requests.length} PUT requests, fired at once…`);
    const floodStart = Date.now();
    const answers = await Promise.all(
      requests.map(async (nights) => {
        try {
          const res = await fetch(`${engineUrl}/api/v1/room-types/${house.roomTypeId}/calendar`, {
            method: "PUT",
            headers: {
              authorization: `Bearer ${DEMO.tokens.alpineAdmin}`,
              "content-type": "application/json",
            },
            body: JSON.stringify({ nights }),
            signal: AbortSignal.timeout(60_000),
          });
          const text = await res.text();
          return { status: res.status, at: Date.now(), body: text };
        } catch (err) {
          return { status: null, at: Date.now(), body: String(err?.message ?? err) };
        }
      }),
    );
    const t0 = Math.max(...answers.map((a) => a.at));
    const failedRequests = answers
      .filter((a) => a.status !== 200)
      .map((a) => `${a.status ?? "no answer"}: ${a.body.slice(0, 200)}`);
    const engineCounts = answers
      .filter((a) => a.status === 200)
      .map((a) => JSON.parse(a.body).data)
      .reduce(
        (t, d) => ({
          availability: t.availability + d.availability_changed,
          price: t.price + d.price_changed,
        }),
        { availability: 0, price: 0 },
      );

    // ---- what changed: dates touched, and those whose final truth differs from before ----
    const truth = await readTruth(api, house.roomTypeId, first, last);
    const touched = {
      availability: new Set(changes.filter((c) => c.blocked !== undefined).map((c) => c.date)),
      price: new Set(changes.filter((c) => c.price_minor !== undefined).map((c) => c.date)),
    };
    const changed = {
      availability: [...touched.availability]
        .filter((d) => before.get(d).available > 0 !== truth.get(d).available > 0)
        .sort(),
      price: [...touched.price]
        .filter((d) => before.get(d).price_minor !== truth.get(d).price_minor)
        .sort(),
    };
    const allChanged = [...new Set([...changed.availability, ...changed.price])].sort();
    const minimum = minimumCalls(changed, truth);
    progress(
      `  answered in ${t0 - floodStart} ms; changed ${changed.availability.length} availability ` +
        `and ${changed.price.length} price dates; minimum calls Airbnb ${minimum.airbnb.total}, ` +
        `Booking.com ${minimum.booking_com.total}, Beds24 ${minimum.beds24.total}`,
    );

    // ---- bookings during the flood, on nights it left open, timed like the propagation part ----
    const bookedDates =
      bookings.count > 0
        ? chooseBookingDates(truth, { count: bookings.count, from: bookings.from ?? first })
        : null;
    const duringFlood = bookedDates
      ? sleep(Math.max(0, t0 + bookings.delayMs - Date.now())).then(() =>
          measurePropagation({
            sandboxUrl,
            dates: bookedDates,
            ratePerSecond: bookings.ratePerSecond,
            // Long enough to time a booking that waits out the whole flood, not just 30 s of it.
            timeoutMs: timeoutMs,
            pollMs: 100,
          }),
        )
      : Promise.resolve(null);
    // Awaited after convergence; a failure there must not go unhandled meanwhile.
    duringFlood.catch(() => {});
    if (bookedDates) {
      progress(
        `  ${bookedDates.length} Airbnb bookings ${bookedDates[0]} … ${bookedDates.at(-1)} at ` +
          `${bookings.ratePerSecond}/s from t0 + ${bookings.delayMs / 1000} s, during the flood`,
      );
    }

    // ---- convergence: poll both sandboxes until every changed date shows the truth ----
    const conv = Object.fromEntries(
      PLATFORMS.map((p) => [p, { at: null, lastWrite: null, wrong: allChanged.length * 2 }]),
    );
    const deadline = t0 + timeoutMs;
    let nextNote = Date.now() + 10_000;
    while (allChanged.length > 0) {
      const open = PLATFORMS.filter((p) => conv[p].at === null);
      if (open.length === 0 || Date.now() > deadline) break;
      await Promise.all(
        open.map(async (p) => {
          const cal = await sandboxCall(
            sandboxUrl,
            "GET",
            sandboxCalendarPath(p, house, allChanged[0], allChanged.at(-1)),
          );
          const seenAt = Date.now();
          const m = mismatches(cal.days, changed, truth);
          conv[p].wrong = m.wrong.length;
          if (m.wrong.length === 0) {
            conv[p].at = seenAt;
            conv[p].lastWrite = m.lastWrite;
            progress(`  ${LABEL[p]} converged ${((seenAt - t0) / 1000).toFixed(1)} s after t0`);
          }
        }),
      );
      if (Date.now() > nextNote) {
        nextNote += 10_000;
        const waiting = PLATFORMS.filter((p) => conv[p].at === null)
          .map((p) => `${LABEL[p]} ${conv[p].wrong} date(s) to go`)
          .join(", ");
        progress(`  ${Math.round((Date.now() - t0) / 1000)} s: ${waiting}`);
      }
      await sleep(pollMs);
    }
    if (allChanged.length === 0) for (const p of PLATFORMS) conv[p].at = t0;
    const bookingsDuringFlood = await duringFlood;

    // Calls the gates still make after convergence belong to the flood too: wait for them.
    const idleAfter = await waitForIdleGates(api, house.propertyId, 30_000);
    // The truth compared against must not have moved since it was read (a late write would),
    // but for the nights booked meanwhile, which the bookings closed on purpose.
    const after = await readTruth(api, house.roomTypeId, first, last);
    const booked = new Set(bookedDates ?? []);
    const truthStable = [...truth].every(
      ([d, n]) =>
        (booked.has(d) || after.get(d).available === n.available) &&
        after.get(d).price_minor === n.price_minor,
    );
    await sleep(500);
    const logs = {};
    for (const p of PLATFORMS) {
      const { requests: log } = await sandboxCall(
        sandboxUrl,
        "GET",
        `/_sandbox/${p}/requests?limit=${REQUEST_LOG_MAX}`,
      );
      logs[p] = classifyRequests(p, house, log, { since: partStart, floodStart, t0 });
    }
    const { received } = await sandboxCall(
      sandboxUrl,
      "GET",
      `/_sandbox/booking_com/received?limit=${RECEIVED_LOG_MAX}`,
    );
    // The bookings' own calls (bodies carrying only booked nights), taken out of the flood's.
    const bookingCalls = {};
    for (const p of PLATFORMS) {
      const bodies = bookedDates
        ? (
            await sandboxCall(
              sandboxUrl,
              "GET",
              `/_sandbox/${p}/received?limit=${RECEIVED_PAGE_MAX}`,
            )
          ).received
        : [];
      bookingCalls[p] = bookingOnlyCalls(p, bodies, bookedDates ?? [], floodStart);
      logs[p].calls -= bookingCalls[p].total;
      logs[p].accepted -= bookingCalls[p].accepted;
      for (const [k, n] of Object.entries(bookingCalls[p].by_endpoint)) logs[p].by_endpoint[k] -= n;
    }

    const platforms = {};
    for (const p of PLATFORMS) {
      const limit = PUBLISHED_LIMITS[p];
      const min = minimum[p].total;
      const rateFloor = rateLimitFloorMs(min, limit);
      const floor = baseline[p] === null ? rateFloor : convergenceFloorMs(min, limit, baseline[p]);
      const c = conv[p];
      const convergenceMs = c.at === null ? null : c.at - t0;
      const callsRatio = min > 0 ? round(logs[p].calls / min) : null;
      const convergenceRatio =
        convergenceMs !== null && floor > 0 ? round(convergenceMs / floor) : null;
      platforms[p] = {
        minimum_calls: minimum[p],
        calls: logs[p].calls,
        calls_by_endpoint: logs[p].by_endpoint,
        booking_calls: bookingCalls[p].total,
        calls_accepted: logs[p].accepted,
        calls_failed: logs[p].failed,
        calls_before_t0: logs[p].before_t0,
        first_call_ms: logs[p].first_call_ms,
        last_call_ms: logs[p].last_call_ms,
        calls_ratio: callsRatio,
        rate_limit: {
          capacity: limit.capacity,
          window_ms: limit.windowMs,
          ...(limit.costPerCall ? { cost_per_call: limit.costPerCall } : {}),
        },
        baseline_ms: baseline[p],
        rate_limit_floor_ms: round(rateFloor, 0),
        floor_ms: round(floor, 0),
        converged: c.at !== null,
        convergence_ms: convergenceMs,
        last_write_ms: c.lastWrite === null ? null : c.lastWrite - t0,
        dates_not_matching: c.at === null ? c.wrong : 0,
        convergence_ratio: convergenceRatio,
        rate_limited: logs[p].rate_limited,
        rate_limited_ari: logs[p].rate_limited_ari,
        token_calls: logs[p].token_calls,
        other_calls: logs[p].other_calls,
        request_log_truncated: logs[p].log_truncated,
        ...(p === "booking_com" ? { hotel_codes_in_bodies: hotelCodes(received, floodStart) } : {}),
        targets: {
          calls_ratio: {
            max: FLOOD_TARGETS.callsRatioMax,
            pass: callsRatio !== null && callsRatio <= FLOOD_TARGETS.callsRatioMax,
          },
          convergence_ratio: {
            max: FLOOD_TARGETS.convergenceRatioMax,
            pass:
              convergenceRatio !== null && convergenceRatio <= FLOOD_TARGETS.convergenceRatioMax,
          },
          rate_limited: {
            max: FLOOD_TARGETS.rateLimited,
            pass: logs[p].rate_limited <= FLOOD_TARGETS.rateLimited,
          },
        },
      };
    }
    return {
      property: house.propertyId,
      room_type: house.roomTypeId,
      time_zone: timeZone,
      window: { start: first, end: last, days },
      seed,
      changes: changes.length,
      changes_by_aspect: {
        availability: changes.filter((c) => c.blocked !== undefined).length,
        price: changes.filter((c) => c.price_minor !== undefined).length,
      },
      requests: requests.length,
      nights_per_request_max: NIGHTS_PER_REQUEST,
      failed_requests: failedRequests,
      flood_ms: t0 - floodStart,
      // Wall-clock times (ms since the epoch), to find the flood in the logs.
      started_at: floodStart,
      t0_at: t0,
      dates_touched: { availability: touched.availability.size, price: touched.price.size },
      dates_changed: { availability: changed.availability.length, price: changed.price.length },
      engine_reported_changes: engineCounts,
      rate_plan_mapping: ratePlanMapping,
      beds24_connection: beds24Connection,
      gates_idle_after: idleAfter,
      bookings_during_flood: bookingsDuringFlood,
      bookings_delay_ms: bookings.delayMs,
      truth_stable: truthStable,
      timeout_ms: timeoutMs,
      platforms,
    };
  } finally {
    await restoreFaults();
  }
}

/**
 * Put the lake house back the way the propagation part needs it: every night open on the engine
 * and on both sandboxes, the gates idle, and no Booking.com call left in its rolling window (the
 * propagation part would otherwise start with the gate's budget spent by the flood).
 */
export async function reopenAfterFlood({ engineUrl, sandboxUrl, timeoutMs = 180_000, progress }) {
  const house = DEMO.seehaus;
  const api = engineApi(engineUrl);
  const started = Date.now();
  const property = await api("GET", `/api/v1/properties/${house.propertyId}`);
  const today = localToday(property.data?.time_zone ?? "Europe/Berlin");
  const [from, to] = [today, addDays(today, 365)];
  const truth = await readTruth(api, house.roomTypeId, from, addDays(from, 365));
  const blocked = [...truth.values()].filter((n) => n.blocked > 0).map((n) => n.date);
  if (blocked.length > 0) {
    progress(`  reopening ${blocked.length} blocked nights for the propagation part…`);
    await api("PUT", `/api/v1/room-types/${house.roomTypeId}/calendar`, {
      nights: blocked.map((date) => ({ date, blocked: 0 })),
    });
  }
  // Nights booked during the flood stay closed: only the nights the engine shows open must be.
  const open = new Set(
    [...(await readTruth(api, house.roomTypeId, from, addDays(from, 365))).values()]
      .filter((n) => n.available > 0)
      .map((n) => n.date),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const closed = {};
    for (const p of PLATFORMS) {
      const cal = await sandboxCall(sandboxUrl, "GET", sandboxCalendarPath(p, house, from, to));
      closed[p] = cal.days.filter((d) => !d.available && open.has(d.date)).length;
    }
    if (PLATFORMS.every((p) => closed[p] === 0)) break;
    if (Date.now() > deadline) {
      throw new Error(
        `nights still closed after reopening: Airbnb ${closed.airbnb}, Booking.com ${closed.booking_com}, Beds24 ${closed.beds24}`,
      );
    }
    await sleep(500);
  }
  await waitForIdleGates(api, house.propertyId, 30_000);
  const { requests: log } = await sandboxCall(
    sandboxUrl,
    "GET",
    `/_sandbox/booking_com/requests?limit=${REQUEST_LOG_MAX}`,
  );
  const lastCall = log.filter((r) => r.path.includes("/ota/")).at(-1)?.at ?? 0;
  const clearAt = lastCall + PUBLISHED_LIMITS.booking_com.windowMs + 1_000;
  if (clearAt > Date.now()) {
    progress(
      `  waiting ${Math.round((clearAt - Date.now()) / 1000)} s for the Booking.com rate window to clear…`,
    );
    await sleep(clearAt - Date.now());
  }
  return { reopened_nights: blocked.length, seconds: round((Date.now() - started) / 1000, 1) };
}
