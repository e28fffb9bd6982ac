import { PlatformError } from "../src/platforms/types";

/**
 * Raised inside the gate when a call may not leave yet (rate limit, open circuit). Nothing was
 * sent, so nothing the platform counts was spent: a token mint held this way costs no budget.
 */
export class GateDeferral extends PlatformError {
  constructor(
    platform: PlatformError["platform"],
    readonly retryAt: number,
    readonly reason: "rate_limit" | "circuit_open",
    now: number,
  ) {
    super(
      platform,
      "rate_limited",
      `${reason === "circuit_open" ? "circuit open" : "rate limit reached"}: held until ${new Date(retryAt).toISOString()}`,
      undefined,
      Math.max(1, Math.ceil((retryAt - now) / 1000)),
    );
    this.name = "GateDeferral";
  }
}
