import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { ChannelGate } from "../../durable-objects/channel-gate";

/** A connection's ChannelGate stub, typed (the gate is named by its connection id). */
export function gateOf(connectionId: string): DurableObjectStub<ChannelGate> {
  return env.CHANNEL_GATE.getByName(connectionId);
}

/**
 * Run `fn` inside the connection's gate with the instance typed, so a test reads or replaces its
 * parts (clock, limits, storage) without a cast.
 */
export function inGate<R>(
  gate: string | DurableObjectStub<ChannelGate>,
  fn: (gate: ChannelGate, state: DurableObjectState) => R | Promise<R>,
): Promise<R> {
  return runInDurableObject(typeof gate === "string" ? gateOf(gate) : gate, fn);
}

/** Replace the gate's injected clock (it reads `clock` on every use). */
export function setGateClock(
  gate: string | DurableObjectStub<ChannelGate>,
  clock: () => number,
): Promise<void> {
  return inGate(gate, (instance) => {
    instance.clock = clock;
  });
}
