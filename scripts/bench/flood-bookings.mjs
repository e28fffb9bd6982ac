// Bookings during the flood for `npm run bench`: while the gates work through the flood's
// backlog, bookings for the flooded property (platforms/index.mjs, PROPAGATION) are timed until
// their nights show closed. Here: which nights to book, and which platform calls carried only
// those nights (so the flood's own calls still compare against the flood's own minimum).

const toMs = (date) => Date.parse(`${date}T00:00:00Z`);

/**
 * `count` nights the flood left open (the engine's truth after it), from `from` on, as close
 * together as possible: a push call may cover a whole window of days (31 on Booking.com), so
 * clustered bookings share calls, as a hotel's bookings for the coming weeks would. Null when
 * there are not enough open nights.
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

/**
 * Calendar calls since `since` whose every night is one of the booked ones: the bookings' own
 * calls, per endpoint. A call that also carried flood nights stays the flood's (none should: the
 * booked nights are ones the flood did not touch, or left as they were).
 */
export function bookingOnlyCalls(platform, house, received, bookedDates, since) {
  const booked = new Set(bookedDates);
  const out = { total: 0, accepted: 0, by_endpoint: {} };
  if (!platform.bodyDates) return out;
  for (const r of received) {
    const endpoint = platform.pushEndpoint(r, house);
    if (r.at < since || !endpoint) continue;
    const dates = platform.bodyDates(r.body);
    if (dates.length === 0 || !dates.every((d) => booked.has(d))) continue;
    out.total += 1;
    if (r.status >= 200 && r.status < 300) out.accepted += 1;
    out.by_endpoint[endpoint] = (out.by_endpoint[endpoint] ?? 0) + 1;
  }
  return out;
}
