import {
  PlatformError,
  type AdapterContext,
  type NightState,
  type PlatformAdapter,
  type PushTarget,
} from "../../src/platforms/contract";

/**
 * Send every request an adapter plans for these nights, in order, the way the ChannelGate does
 * (minus its limiter and breaker): availability for all nights, prices for those that carry one.
 * Idempotency keys are `<ctx key>-<n>`. A skipped aspect is thrown after the rest went out.
 */
export async function pushNights(
  adapter: PlatformAdapter,
  ctx: AdapterContext,
  target: PushTarget,
  nights: NightState[],
): Promise<{ calls: number; nights: number }> {
  const plan = adapter.planPush(
    target,
    {
      availability: nights,
      price: nights.filter((n) => n.priceMinor !== undefined && n.currency),
    },
    ctx.now(),
  );
  let n = 0;
  const covered = new Set<string>();
  for (const call of plan.calls) {
    n += 1;
    const key = ctx.idempotencyKey ? { idempotencyKey: `${ctx.idempotencyKey}-${n}` } : {};
    await call.send({ ...ctx, ...key });
    for (const d of call.dates) covered.add(d);
  }
  const skipped = plan.skipped[0];
  if (skipped) throw new PlatformError(adapter.platform, "permanent", skipped.reason);
  return { calls: n, nights: covered.size };
}
