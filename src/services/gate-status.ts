import type { GateStatus } from "../../durable-objects/channel-gate/client";

/**
 * The one presenter of a ChannelGate's status in the API's snake_case. Each API shows the parts
 * its schema documents (a property's channel status, a sync log's retry) and picks them from here,
 * so a field is named and converted once.
 */
export function presentGateStatus(s: GateStatus) {
  return {
    connection_id: s.connectionId,
    pending_nights: s.pendingNights,
    blocked_reason: s.blockedReason,
    last_error: s.lastError,
    consecutive_failures: s.consecutiveFailures,
    circuit_state: s.circuit.state,
    last_push_at: s.lastPushAt,
    circuit: {
      state: s.circuit.state,
      consecutive_failures: s.circuit.consecutiveFailures,
      consecutive_successes: s.circuit.consecutiveSuccesses,
      opened_at: s.circuit.openedAt,
      reopens_at: s.circuit.reopensAt,
      probe_in_flight: s.circuit.probeInFlight,
      opens: s.circuit.opens,
    },
    rate_limit: {
      capacity: s.rateLimit.capacity,
      window_ms: s.rateLimit.windowMs,
      reserved: s.rateLimit.reserved,
      available: s.rateLimit.available,
      blocked_until: s.rateLimit.blockedUntil,
      quota: s.rateLimit.quota
        ? { remaining: s.rateLimit.quota.remaining, resets_at: s.rateLimit.quota.resetsAt }
        : null,
      calls_in_window: s.rateLimit.callsInWindow,
    },
    token_refresh_due_at: s.tokens.refreshDueAt,
    pending: s.pending.map((p) => ({
      room_type_id: p.roomTypeId,
      aspect: p.aspect,
      ranges: p.ranges.map((r) => ({ start: r.start, end: r.end })),
    })),
    jobs: s.jobs.map((j) => ({ name: j.name, due_at: j.dueAt, attempts: j.attempts })),
  };
}

export type PresentedGateStatus = ReturnType<typeof presentGateStatus>;
