import type { Platform } from "../../src/store/schema/channels.schema";
import { PlatformError } from "../../src/platforms/contract";
import { GateHeldError, type GateAnswer } from "./held";
import type { ChannelGate } from "./index";

export { GateHeldError, type GateAnswer, type GateFailure, type HoldReason } from "./held";
export type { GateStatus } from "./status";
export type { MarkDirtyInput } from "./pending";

/** A typed stub of one connection's gate. */
export type GateStub = DurableObjectStub<ChannelGate>;

/**
 * The gate of a connection: one per connection id, so every call for that connection meets the
 * same limiter, breaker and tokens. Every caller reaches a gate through here.
 */
export function gateFor(env: Pick<Env, "CHANNEL_GATE">, connectionId: string): GateStub {
  return env.CHANNEL_GATE.getByName(connectionId);
}

/**
 * A gate answer back into a value, or the classified error it carried: the gate's hold as the
 * GateHeldError it was, anything else as a PlatformError of its kind.
 */
export function unwrapGate<T>(platform: Platform, result: GateAnswer<T>): T {
  if (result.ok) return result.value;
  const e = result.error;
  const held = GateHeldError.fromFailure(platform, e);
  if (held) throw held;
  // The gate's messages already name the platform (PlatformError prefixes it).
  const message = e.message.replace(`${platform}: `, "");
  throw new PlatformError(platform, e.kind, message, e.status, e.retryAfterSeconds);
}
