// The flood's figures per platform: calls next to the minimum, convergence next to the floor, and
// what the request logs show, with the targets each figure is held to.
import { convergenceFloorMs, FLOOD_TARGETS, rateLimitFloorMs, round } from "./flood-model.mjs";
import { PLATFORMS } from "./platforms/index.mjs";

function targets(callsRatio, convergenceRatio, rateLimited) {
  return {
    calls_ratio: {
      max: FLOOD_TARGETS.callsRatioMax,
      pass: callsRatio !== null && callsRatio <= FLOOD_TARGETS.callsRatioMax,
    },
    convergence_ratio: {
      max: FLOOD_TARGETS.convergenceRatioMax,
      pass: convergenceRatio !== null && convergenceRatio <= FLOOD_TARGETS.convergenceRatioMax,
    },
    rate_limited: {
      max: FLOOD_TARGETS.rateLimited,
      pass: rateLimited <= FLOOD_TARGETS.rateLimited,
    },
  };
}

function figuresOf(p, { minimum, baseline, conv, t0, logs, bodyFigures, bookingCalls }) {
  const limit = p.limit;
  const log = logs[p.id];
  const min = minimum[p.id].total;
  const rateFloor = rateLimitFloorMs(min, limit);
  const floor =
    baseline[p.id] === null ? rateFloor : convergenceFloorMs(min, limit, baseline[p.id]);
  const c = conv[p.id];
  const convergenceMs = c.at === null ? null : c.at - t0;
  const callsRatio = min > 0 ? round(log.calls / min) : null;
  const convergenceRatio =
    convergenceMs !== null && floor > 0 ? round(convergenceMs / floor) : null;
  return {
    minimum_calls: minimum[p.id],
    calls: log.calls,
    calls_by_endpoint: log.by_endpoint,
    booking_calls: bookingCalls[p.id].total,
    calls_accepted: log.accepted,
    calls_failed: log.failed,
    calls_before_t0: log.before_t0,
    first_call_ms: log.first_call_ms,
    last_call_ms: log.last_call_ms,
    calls_ratio: callsRatio,
    rate_limit: {
      capacity: limit.capacity,
      window_ms: limit.windowMs,
      ...(limit.costPerCall ? { cost_per_call: limit.costPerCall } : {}),
    },
    baseline_ms: baseline[p.id],
    rate_limit_floor_ms: round(rateFloor, 0),
    floor_ms: round(floor, 0),
    converged: c.at !== null,
    convergence_ms: convergenceMs,
    last_write_ms: c.lastWrite === null ? null : c.lastWrite - t0,
    dates_not_matching: c.at === null ? c.wrong : 0,
    convergence_ratio: convergenceRatio,
    rate_limited: log.rate_limited,
    rate_limited_ari: log.rate_limited_ari,
    token_calls: log.token_calls,
    other_calls: log.other_calls,
    request_log_truncated: log.log_truncated,
    ...(bodyFigures[p.id] ?? {}),
    targets: targets(callsRatio, convergenceRatio, log.rate_limited),
  };
}

/** Every platform's figures, by platform id, in report order. */
export function platformFigures(measured) {
  return Object.fromEntries(PLATFORMS.map((p) => [p.id, figuresOf(p, measured)]));
}
