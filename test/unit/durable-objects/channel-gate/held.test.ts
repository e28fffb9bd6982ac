import { describe, expect, it } from "vitest";
import { GateHeldError, unwrapGate } from "../../../../durable-objects/channel-gate/client";
import { PlatformError } from "../../../../src/platforms/contract";

/**
 * One "held by the gate" error on both sides of the RPC: the gate throws it, answers it as data,
 * and the caller rebuilds the very same error (message, retry-after, hold) from that data.
 */
describe("a call the gate held", () => {
  const now = Date.UTC(2027, 2, 1, 12, 0, 0);

  it.each([
    ["rate_limit", "booking_com: rate limit reached: held until 2027-03-01T12:00:02.500Z"],
    ["circuit_open", "booking_com: circuit open: held until 2027-03-01T12:00:02.500Z"],
  ] as const)("held by its %s comes back as the same error", (reason, message) => {
    const held = GateHeldError.until("booking_com", now + 2_500, reason, now);
    expect(held).toBeInstanceOf(PlatformError);
    expect(held).toMatchObject({ kind: "rate_limited", retryAfterSeconds: 3, message });
    const thrown = (() => {
      try {
        unwrapGate("booking_com", { ok: false, error: held.failure() });
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).toBeInstanceOf(GateHeldError);
    expect(thrown).toMatchObject({
      message,
      kind: "rate_limited",
      heldUntil: now + 2_500,
      reason,
      retryAfterSeconds: 3,
    });
  });

  it("asks for at least a second, however close the hold ends", () => {
    expect(GateHeldError.until("airbnb", now + 1, "rate_limit", now).retryAfterSeconds).toBe(1);
  });

  it("any other failure comes back as a PlatformError of its kind, not a hold", () => {
    const answer = {
      ok: false as const,
      error: { kind: "transient" as const, message: "airbnb: HTTP 503", status: 503 },
    };
    expect(() => unwrapGate("airbnb", answer)).toThrow(PlatformError);
    try {
      unwrapGate("airbnb", answer);
    } catch (err) {
      expect(err).not.toBeInstanceOf(GateHeldError);
      expect(err).toMatchObject({ kind: "transient", status: 503, message: "airbnb: HTTP 503" });
    }
  });

  it("a value passes through", () => {
    expect(unwrapGate("airbnb", { ok: true, value: 7 })).toBe(7);
  });
});
