import type { Platform } from "../../src/store/schema/channels.schema";
import { PlatformError, type GateResult } from "../../src/platforms/contract";

/** Why the gate held a call: its rate limiter had no token, or its circuit was open. */
export type HoldReason = "rate_limit" | "circuit_open";

/** A gate answer's error as it crosses RPC; `heldBy` names the hold `heldUntil` dates. */
export type GateFailure = Extract<GateResult<unknown>, { ok: false }>["error"] & {
  heldBy?: HoldReason;
};

/** What the gate's RPC methods answer: a value, or a failure as data (RPC keeps only messages). */
export type GateAnswer<T> = { ok: true; value: T } | { ok: false; error: GateFailure };

/**
 * A platform call the ChannelGate did not let leave yet (rate limit, open circuit). Nothing was
 * sent, so nothing the platform counts was spent: a token mint held this way costs no budget, and
 * an inbound event held this way uses no retry. The one definition on both sides of the RPC: the
 * gate throws it, sends it as `failure()`, and a caller rebuilds the same error with `fromFailure`.
 */
export class GateHeldError extends PlatformError {
  constructor(
    platform: Platform,
    readonly heldUntil: number,
    readonly reason: HoldReason,
    retryAfterSeconds: number,
  ) {
    const what = reason === "circuit_open" ? "circuit open" : "rate limit reached";
    super(
      platform,
      "rate_limited",
      `${what}: held until ${new Date(heldUntil).toISOString()}`,
      undefined,
      retryAfterSeconds,
    );
    this.name = "GateHeldError";
  }

  /** Held at `now` until `heldUntil`: retry-after in whole seconds, at least one. */
  static until(
    platform: Platform,
    heldUntil: number,
    reason: HoldReason,
    now: number,
  ): GateHeldError {
    return new GateHeldError(
      platform,
      heldUntil,
      reason,
      Math.max(1, Math.ceil((heldUntil - now) / 1000)),
    );
  }

  /** The hold as data, for a GateResult. */
  failure(): GateFailure {
    return {
      kind: "rate_limited",
      message: this.message,
      retryAfterSeconds: this.retryAfterSeconds ?? 1,
      heldUntil: this.heldUntil,
      heldBy: this.reason,
    };
  }

  /** The hold a failure describes, or null when the gate did not hold the call. */
  static fromFailure(platform: Platform, error: GateFailure): GateHeldError | null {
    if (error.heldUntil === undefined || error.heldBy === undefined) return null;
    return new GateHeldError(platform, error.heldUntil, error.heldBy, error.retryAfterSeconds ?? 1);
  }
}
