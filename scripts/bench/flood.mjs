// Flood for `npm run bench`: a PMS bulk update of many random single-date availability and price
// changes on one property, pushed by the ChannelGates to sandboxes that enforce the platforms'
// published rate limits. Measures, per platform, the calls sent next to the fewest the platform's
// request size allows, and the time to converge next to the floor its rate limit sets.
//
// What is particular to a platform (its limit, its push endpoints, its calendar read-back, its
// minimum-call rule) is in its descriptor (platforms/<platform>.mjs); the minimum calls come from
// the shared reference model (scripts/lib/push-minimum.mjs), not from the engine's adapters.
import { DEMO, sandboxCall } from "../lib/stack.mjs";
import {
  connectionOf,
  connectionsOf,
  engineApi,
  putCalendar,
  readTruth,
  waitForIdleGates,
} from "./engine.mjs";
import { chooseBookingDates } from "./flood-bookings.mjs";
import { collectCalls, REQUEST_LOG_MAX } from "./flood-calls.mjs";
import { awaitConvergence } from "./flood-convergence.mjs";
import { platformFigures } from "./flood-figures.mjs";
import {
  addDays,
  buildRequests,
  daysBetween,
  decimalToMinor,
  generateChanges,
  localToday,
  minimumCalls,
  NIGHTS_PER_REQUEST,
  round,
} from "./flood-model.mjs";
import { PLATFORMS, PROPAGATION } from "./platforms/index.mjs";
import { measurePropagation } from "./propagation.mjs";

export { FLOOD_TARGETS } from "./flood-model.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Baseline: one price change on one date, timed from the PUT's answer until each platform shows
 * it (polled like the flood). Returns ms per platform (null if it never showed).
 */
async function measureSingleChange({ api, engineUrl, sandboxUrl, house, date, pollMs, timeoutMs }) {
  const current = (await readTruth(api, house.roomTypeId, date, date)).get(date);
  const price = (current?.price_minor ?? 9000) === 9900 ? 9800 : 9900;
  const res = await putCalendar(engineUrl, house.roomTypeId, [{ date, price_minor: price }]);
  if (res.status !== 200)
    throw new Error(`baseline change refused: ${res.status} ${await res.text()}`);
  const t0 = Date.now();
  const seen = Object.fromEntries(PLATFORMS.map((p) => [p.id, null]));
  while (PLATFORMS.some((p) => seen[p.id] === null) && Date.now() < t0 + timeoutMs) {
    await Promise.all(
      PLATFORMS.filter((p) => seen[p.id] === null).map(async (p) => {
        const cal = await sandboxCall(sandboxUrl, "GET", p.calendarPath(house, date, date));
        const day = cal.days.find((d) => d.date === date);
        if (decimalToMinor(day?.price) === price) seen[p.id] = Date.now() - t0;
      }),
    );
    await sleep(pollMs);
  }
  return seen;
}

/** Every descriptor's setup (mappings, connections), as figures by name. */
async function prepare(api, sandboxUrl, house) {
  const figures = {};
  const connection = (id) => connectionOf(api, house.propertyId, id);
  // Each setup looks up only what it needs itself, so none waits for another's.
  for (const p of PLATFORMS.filter((x) => x.prepare)) {
    figures[p.prepare.figure] = await p.prepare.run({ api, sandboxUrl, house, connection });
  }
  await connectionsOf(api, house.propertyId);
  return figures;
}

/** Turn every sandbox's enforced limit on; the returned function puts the switches back. */
async function enforceLimits(sandboxUrl) {
  const previous = {};
  for (const p of PLATFORMS) {
    const { faults } = await sandboxCall(sandboxUrl, "GET", `/_sandbox/${p.id}/faults`);
    previous[p.id] = faults.enforce_rate_limit;
  }
  const restore = async () => {
    for (const p of PLATFORMS) {
      await sandboxCall(sandboxUrl, "POST", `/_sandbox/${p.id}/faults`, {
        enforce_rate_limit: previous[p.id],
      });
    }
  };
  return { previous, restore };
}

/** Every request at once; t0 is when the last was answered. */
async function fireFlood(engineUrl, house, requests) {
  const floodStart = Date.now();
  const answers = await Promise.all(
    requests.map(async (nights) => {
      try {
        const res = await putCalendar(engineUrl, house.roomTypeId, nights, {
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
  return { floodStart, t0, failedRequests, engineCounts };
}

/** Dates touched by the changes, and those whose final truth differs from before. */
function whatChanged(changes, before, truth) {
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
  return { touched, changed };
}

/** Bookings during the flood, on nights it left open, timed like the propagation part. */
function bookDuringFlood({ sandboxUrl, truth, first, t0, bookings, timeoutMs, progress }) {
  const bookedDates =
    bookings.count > 0
      ? chooseBookingDates(truth, { count: bookings.count, from: bookings.from ?? first })
      : null;
  const done = bookedDates
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
  done.catch(() => {});
  if (bookedDates) {
    progress(
      `  ${bookedDates.length} ${PROPAGATION.from.label} bookings ${bookedDates[0]} … ${bookedDates.at(-1)} at ` +
        `${bookings.ratePerSecond}/s from t0 + ${bookings.delayMs / 1000} s, during the flood`,
    );
  }
  return { bookedDates, done };
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
  // Bookings sent while the flood converges: how many, how fast, how long after t0 the first,
  // and the first night they may take (the propagation part books the nights before it).
  bookings = { count: 0, ratePerSecond: 1, delayMs: 3_000, from: null },
  progress = () => {},
}) {
  const house = { ...DEMO.seehaus, ratePlan: "rp_seehaus_standard" };
  const api = engineApi(engineUrl);
  const partStart = Date.now();

  // ---- setup: mappings, enforced limits, idle gates ----
  const setup = await prepare(api, sandboxUrl, house);
  const property = await api("GET", `/api/v1/properties/${house.propertyId}`);
  const timeZone = property.data?.time_zone ?? property.time_zone ?? "Europe/Berlin";
  const limits = await enforceLimits(sandboxUrl);
  try {
    for (const p of PLATFORMS) {
      await sandboxCall(sandboxUrl, "POST", `/_sandbox/${p.id}/faults`, {
        enforce_rate_limit: true,
      });
    }
    if (!(await waitForIdleGates(api, house.propertyId, 60_000))) {
      throw new Error("the gates of prop_seehaus still hold pending nights after 60 s");
    }
    return await floodRun({
      api,
      engineUrl,
      sandboxUrl,
      house,
      count,
      seed,
      timeoutMs,
      pollMs,
      bookings,
      progress,
      partStart,
      timeZone,
      setup,
    });
  } finally {
    await limits.restore();
  }
}

/** The measured part, once the limits are enforced and the gates idle. */
async function floodRun(ctx) {
  const { api, engineUrl, sandboxUrl, house, timeZone, progress, pollMs, timeoutMs } = ctx;
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
    `  one change alone reached ${PLATFORMS.map((p) => `${p.label} in ${baseline[p.id] ?? "—"} ms`).join(", ")}`,
  );
  if (!(await waitForIdleGates(api, house.propertyId, 60_000))) {
    throw new Error("the gates of prop_seehaus still hold pending nights after the baseline");
  }
  const days = daysBetween(first, last) + 1;
  const changes = generateChanges({ count: ctx.count, seed: ctx.seed, first, days });
  const requests = buildRequests(changes);
  const before = await readTruth(api, house.roomTypeId, first, last);

  // ---- the flood: every request at once ----
  progress(`  ${changes.length} changes in ${requests.length} PUT requests, fired at once…`);
  const fired = await fireFlood(engineUrl, house, requests);
  const { floodStart, t0 } = fired;

  // ---- what changed: dates touched, and those whose final truth differs from before ----
  const truth = await readTruth(api, house.roomTypeId, first, last);
  const { touched, changed } = whatChanged(changes, before, truth);
  const minimum = minimumCalls(changed, truth);
  progress(
    `  answered in ${t0 - floodStart} ms; changed ${changed.availability.length} availability ` +
      `and ${changed.price.length} price dates; minimum calls ` +
      PLATFORMS.map((p) => `${p.label} ${minimum[p.id].total}`).join(", "),
  );

  const during = bookDuringFlood({
    sandboxUrl,
    truth,
    first,
    t0,
    bookings: ctx.bookings,
    timeoutMs,
    progress,
  });
  const conv = await awaitConvergence({
    sandboxUrl,
    house,
    changed,
    truth,
    t0,
    timeoutMs,
    pollMs,
    progress,
  });
  const bookingsDuringFlood = await during.done;

  // Calls the gates still make after convergence belong to the flood too: wait for them.
  const idleAfter = await waitForIdleGates(api, house.propertyId, 30_000);
  // The truth compared against must not have moved since it was read (a late write would),
  // but for the nights booked meanwhile, which the bookings closed on purpose.
  const after = await readTruth(api, house.roomTypeId, first, last);
  const booked = new Set(during.bookedDates ?? []);
  const truthStable = [...truth].every(
    ([d, n]) =>
      (booked.has(d) || after.get(d).available === n.available) &&
      after.get(d).price_minor === n.price_minor,
  );
  await sleep(500);
  const calls = await collectCalls({
    sandboxUrl,
    house,
    since: ctx.partStart,
    floodStart,
    t0,
    bookedDates: during.bookedDates,
  });
  return {
    property: house.propertyId,
    room_type: house.roomTypeId,
    time_zone: timeZone,
    window: { start: first, end: last, days },
    seed: ctx.seed,
    changes: changes.length,
    changes_by_aspect: {
      availability: changes.filter((c) => c.blocked !== undefined).length,
      price: changes.filter((c) => c.price_minor !== undefined).length,
    },
    requests: requests.length,
    nights_per_request_max: NIGHTS_PER_REQUEST,
    failed_requests: fired.failedRequests,
    flood_ms: t0 - floodStart,
    // Wall-clock times (ms since the epoch), to find the flood in the logs.
    started_at: floodStart,
    t0_at: t0,
    dates_touched: { availability: touched.availability.size, price: touched.price.size },
    dates_changed: { availability: changed.availability.length, price: changed.price.length },
    engine_reported_changes: fired.engineCounts,
    ...ctx.setup,
    gates_idle_after: idleAfter,
    bookings_during_flood: bookingsDuringFlood,
    bookings_delay_ms: ctx.bookings.delayMs,
    truth_stable: truthStable,
    timeout_ms: timeoutMs,
    platforms: platformFigures({ minimum, baseline, conv, t0, ...calls }),
  };
}

/**
 * Put the lake house back the way the propagation part needs it: every night open on the engine
 * and on every sandbox, the gates idle, and no call left in the propagation target's rolling
 * window (the propagation part would otherwise start with the gate's budget spent by the flood).
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
      const cal = await sandboxCall(sandboxUrl, "GET", p.calendarPath(house, from, to));
      closed[p.id] = cal.days.filter((d) => !d.available && open.has(d.date)).length;
    }
    if (PLATFORMS.every((p) => closed[p.id] === 0)) break;
    if (Date.now() > deadline) {
      const left = PLATFORMS.map((p) => `${p.label} ${closed[p.id]}`).join(", ");
      throw new Error(`nights still closed after reopening: ${left}`);
    }
    await sleep(500);
  }
  await waitForIdleGates(api, house.propertyId, 30_000);
  const target = PROPAGATION.to;
  const { requests: log } = await sandboxCall(
    sandboxUrl,
    "GET",
    `/_sandbox/${target.id}/requests?limit=${REQUEST_LOG_MAX}`,
  );
  const lastCall = log.filter(target.isRateCounted).at(-1)?.at ?? 0;
  const clearAt = lastCall + target.limit.windowMs + 1_000;
  if (clearAt > Date.now()) {
    progress(
      `  waiting ${Math.round((clearAt - Date.now()) / 1000)} s for the ${target.label} rate window to clear…`,
    );
    await sleep(clearAt - Date.now());
  }
  return { reopened_nights: blocked.length, seconds: round((Date.now() - started) / 1000, 1) };
}
