// Propagation for `npm run bench`: a guest's booking webhook sent to the engine (and accepted,
// 202) → the same night closed on the other platform, timed with the sandbox's own write
// timestamps. Which platforms: PROPAGATION in platforms/index.mjs (Airbnb → Booking.com).
import { DEMO, sandboxCall } from "../lib/stack.mjs";
import { PROPAGATION } from "./platforms/index.mjs";

const DAY_MS = 86_400_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an ascending array (null when empty). */
export function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The day after an ISO date (UTC arithmetic: dates only). */
const nextDay = (date) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);

/**
 * Book `count` single nights on the lake house via the source platform's sandbox (`deliver=none`),
 * POST each signed delivery to the engine ourselves (t0 = sending it; it must be accepted with
 * 202) and poll the target platform's calendar until the night is closed (t1 = that night's
 * `updated_at`, stamped by the sandbox on the write).
 * `dates` (sorted, open) books those nights instead of `count` consecutive ones from
 * `firstOffsetDays` (the flood part books the nights it left open).
 */
export async function measurePropagation({
  sandboxUrl,
  count = 200,
  dates = null,
  // Open loop: bookings start at a fixed rate whatever the engine does, as real guests would.
  ratePerSecond = 10,
  firstOffsetDays = 10,
  timeoutMs = 30_000,
  pollMs = 50,
  progress = () => {},
}) {
  const house = DEMO.seehaus;
  // Dates from one UTC midnight, so a run crossing midnight keeps its window.
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const iso = (offset) => new Date(today + offset * DAY_MS).toISOString().slice(0, 10);
  if (!dates && firstOffsetDays + count > 365) {
    throw new Error(`${count} nights do not fit within 365 days`);
  }
  const nights = dates ?? Array.from({ length: count }, (_, i) => iso(firstOffsetDays + i));
  const bookings = nights.map((date) => ({
    date,
    checkOut: nextDay(date),
    t0: null,
    t1: null,
    error: null,
  }));
  const byDate = new Map(bookings.map((b) => [b.date, b]));
  const calendarPath = PROPAGATION.to.calendarPath(house, bookings[0].date, bookings.at(-1).date);

  // A fresh stack has every night open; anything else would fake convergence.
  const before = await sandboxCall(sandboxUrl, "GET", calendarPath);
  const closed = before.days.filter((d) => byDate.has(d.date) && !d.available).length;
  if (closed > 0) {
    throw new Error(`${closed} nights are already closed on ${PROPAGATION.to.label}`);
  }

  const state = { sending: true, aborted: false };

  // One calendar read for the whole window per tick, rather than one per booking.
  const poll = async () => {
    for (;;) {
      const cal = await sandboxCall(sandboxUrl, "GET", calendarPath);
      for (const d of cal.days) {
        const b = byDate.get(d.date);
        // First sighting only: a later push covering the night would move updated_at again.
        if (b && b.t1 === null && !d.available) b.t1 = d.updated_at ?? Date.now();
      }
      const now = Date.now();
      const waiting = bookings.some(
        (b) => b.t1 === null && b.error === null && (b.t0 === null || now - b.t0 < timeoutMs),
      );
      if (state.aborted || (!state.sending && !waiting)) return;
      await sleep(pollMs);
    }
  };

  const book = async (b, i) => {
    const created = await PROPAGATION.from.book(sandboxUrl, house, {
      start: b.date,
      end: b.checkOut,
      guestName: `Bench Guest ${i + 1}`,
    });
    const delivery = created.deliveries?.[0];
    if (!delivery) throw new Error(`the sandbox returned no delivery for ${b.date}`);
    // t0 is when the webhook is sent, not when the 202 arrives: the consumer may finish before the
    // 202 has travelled back, and the sandbox and Node clocks only agree to a few ms. Conservative.
    const sentAt = Date.now();
    try {
      const res = await fetch(delivery.url, {
        method: delivery.method,
        headers: delivery.headers,
        body: delivery.body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (res.status === 202) b.t0 = sentAt;
      else b.error = `engine answered HTTP ${res.status}`;
    } catch (err) {
      // The engine failing to answer is a measured failure, not a broken bench.
      b.error = `engine request failed: ${err?.message ?? err}`;
    }
  };

  let sent = 0;
  const started = Date.now();
  const poller = poll();
  // Awaited below; this stops the senders early and keeps the rejection from going unhandled.
  poller.catch(() => (state.aborted = true));
  const inFlight = [];
  try {
    for (let i = 0; i < bookings.length && !state.aborted; i++) {
      const due = started + (i * 1000) / ratePerSecond;
      if (due > Date.now()) await sleep(due - Date.now());
      inFlight.push(
        book(bookings[i], i).then(() => {
          if (++sent % 50 === 0) progress(`  ${sent}/${bookings.length} bookings sent`);
        }),
      );
    }
    await Promise.all(inFlight);
  } catch (err) {
    state.aborted = true;
    throw err;
  } finally {
    state.sending = false;
  }
  await poller;

  const latencies = [];
  const failures = [];
  for (const b of bookings) {
    if (b.error) failures.push({ date: b.date, reason: b.error });
    else if (b.t1 === null || b.t1 - b.t0 > timeoutMs)
      failures.push({ date: b.date, reason: `not closed within ${timeoutMs / 1000} s` });
    else latencies.push(b.t1 - b.t0);
  }
  latencies.sort((a, b) => a - b);
  return {
    bookings: bookings.length,
    converged: latencies.length,
    failed: failures.length,
    p50_ms: percentile(latencies, 0.5),
    p99_ms: percentile(latencies, 0.99),
    max_ms: latencies.at(-1) ?? null,
    min_ms: latencies[0] ?? null,
    rate_per_s: ratePerSecond,
    window: { start: bookings[0].date, end: bookings.at(-1).date },
    elapsed_s: Math.round((Date.now() - started) / 100) / 10,
    failures: failures.slice(0, 10),
  };
}
