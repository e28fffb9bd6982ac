// Bookings during the flood for `npm run bench`: while the gates work through the flood's
// backlog, Airbnb bookings for the flooded property are timed until their nights show closed on
// Booking.com. Here: which nights to book, and which platform calls carried only those nights
// (so the flood's own calls still compare against the flood's own minimum).

const DAY_MS = 86_400_000;
const toMs = (date) => Date.parse(`${date}T00:00:00Z`);
const addDays = (date, n) => new Date(toMs(date) + n * DAY_MS).toISOString().slice(0, 10);

/**
 * `count` nights the flood left open (the engine's truth after it), from `from` on, as close
 * together as possible: a Booking.com call covers 31 days, so clustered bookings share calls, as a
 * hotel's bookings for the coming weeks would. Null when there are not enough open nights.
 */
export function chooseBookingDates(truth, { count, from }) {
  const open = [...truth.values()]
    .filter((n) => n.date >= from && n.available > 0)
    .map((n) => n.date)
    .sort();
  if (open.length < count) return null;
  let best = 0;
  for (let i = 1; i + count <= open.length; i++) {
    const span = (a) => toMs(open[a + count - 1]) - toMs(open[a]);
    if (span(i) < span(best)) best = i;
  }
  return open.slice(best, best + count);
}

/** Every date of the inclusive range. */
function datesOf(start, end) {
  const out = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}

/** The nights a calendar call's body carries (Booking.com OTA XML, Beds24 JSON). */
export function bodyDates(platform, body) {
  if (platform === "booking_com") {
    const out = [];
    for (const m of body.matchAll(/Start="(\d{4}-\d{2}-\d{2})" End="(\d{4}-\d{2}-\d{2})"/g)) {
      out.push(...datesOf(m[1], m[2]));
    }
    return out;
  }
  if (platform === "beds24") {
    try {
      return JSON.parse(body).flatMap((item) =>
        (item.calendar ?? []).flatMap((r) => datesOf(r.from, r.to)),
      );
    } catch {
      return [];
    }
  }
  return [];
}

const CALENDAR_PATHS = {
  booking_com: /^\/booking_com\/ota\/(OTA_HotelAvailNotif|OTA_HotelRateAmountNotif)$/,
  beds24: /^\/beds24\/inventory\/rooms\/(calendar)$/,
};

/**
 * Calendar calls since `since` whose every night is one of the booked ones: the bookings' own
 * calls, per endpoint. A call that also carried flood nights stays the flood's (none should: the
 * booked nights are ones the flood did not touch, or left as they were).
 */
export function bookingOnlyCalls(platform, received, bookedDates, since) {
  const pattern = CALENDAR_PATHS[platform];
  const booked = new Set(bookedDates);
  const out = { total: 0, accepted: 0, by_endpoint: {} };
  if (!pattern) return out;
  for (const r of received) {
    const m = pattern.exec(r.path);
    if (r.at < since || r.method !== "POST" || !m) continue;
    const dates = bodyDates(platform, r.body);
    if (dates.length === 0 || !dates.every((d) => booked.has(d))) continue;
    const endpoint = platform === "beds24" ? "rooms/calendar" : m[1];
    out.total += 1;
    if (r.status >= 200 && r.status < 300) out.accepted += 1;
    out.by_endpoint[endpoint] = (out.by_endpoint[endpoint] ?? 0) + 1;
  }
  return out;
}
