// The flood's calls: what each platform's request log shows (push calls by endpoint, 429s, token
// and other calls), the bookings' own calls taken out.
import { sandboxCall } from "../lib/stack.mjs";
import { bookingOnlyCalls } from "./flood-bookings.mjs";
import { PLATFORMS } from "./platforms/index.mjs";

/** The sandbox keeps the last 500 requests per platform, and /requests returns at most 500. */
export const REQUEST_LOG_MAX = 500;
/** Bodies read back to tell the bookings' calls from the flood's (the sandbox pages up to 1000). */
const RECEIVED_PAGE_MAX = 1000;

/** What the platform's request log shows since `since`: push calls, 429s, token and other calls. */
function classifyRequests(platform, house, log, { since, floodStart, t0 }) {
  const push = (r) => platform.pushEndpoint(r, house);
  const entries = log.filter((r) => r.at >= since);
  const ari = entries.filter((r) => r.at >= floodStart && push(r));
  const byEndpoint = {};
  for (const r of ari) byEndpoint[push(r)] = (byEndpoint[push(r)] ?? 0) + 1;
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
    token_calls: entries.filter(platform.isTokenCall).length,
    other_calls: entries.filter((r) => !platform.isTokenCall(r) && !(r.at >= floodStart && push(r)))
      .length,
    // Full log and its oldest entry already inside the part: older calls may have dropped out.
    log_truncated: log.length >= REQUEST_LOG_MAX && log[0].at >= since,
  };
}

/** The flood's calls per platform from the request logs, the bookings' own calls taken out. */
export async function collectCalls({ sandboxUrl, house, since, floodStart, t0, bookedDates }) {
  const logs = {};
  for (const p of PLATFORMS) {
    const { requests: log } = await sandboxCall(
      sandboxUrl,
      "GET",
      `/_sandbox/${p.id}/requests?limit=${REQUEST_LOG_MAX}`,
    );
    logs[p.id] = classifyRequests(p, house, log, { since, floodStart, t0 });
  }
  const bodyFigures = {};
  for (const p of PLATFORMS.filter((x) => x.bodyFigures)) {
    const { received } = await sandboxCall(
      sandboxUrl,
      "GET",
      `/_sandbox/${p.id}/received?limit=${p.bodyFigures.limit}`,
    );
    bodyFigures[p.id] = p.bodyFigures.figures(received, floodStart);
  }
  // The bookings' own calls (bodies carrying only booked nights), taken out of the flood's.
  const bookingCalls = {};
  for (const p of PLATFORMS) {
    const bodies = bookedDates
      ? (
          await sandboxCall(
            sandboxUrl,
            "GET",
            `/_sandbox/${p.id}/received?limit=${RECEIVED_PAGE_MAX}`,
          )
        ).received
      : [];
    bookingCalls[p.id] = bookingOnlyCalls(p, house, bodies, bookedDates ?? [], floodStart);
    logs[p.id].calls -= bookingCalls[p.id].total;
    logs[p.id].accepted -= bookingCalls[p.id].accepted;
    for (const [k, n] of Object.entries(bookingCalls[p.id].by_endpoint)) {
      logs[p.id].by_endpoint[k] -= n;
    }
  }
  return { logs, bodyFigures, bookingCalls };
}
