import { onFailure, onNeutral, onSuccess, permit } from "../../src/domain/circuit-breaker";
import type { GateSettings } from "../../src/domain/gate-settings";
import { limitHeaders, settle, take, waitMs, type Priority } from "../../src/domain/rate-limiter";
import { newId } from "../../src/lib/ids";
import { parseRetryAfter } from "../../src/platforms/kit/http";
import type { Connection } from "./connection";
import { GateHeldError } from "./held";
import type { GateLimits } from "./limits";

/** Longest an inbound call waits inside the gate before it is handed back as held. */
const INBOUND_MAX_WAIT_MS = 2_000;

interface Gated {
  limits: GateLimits;
  connection: Connection;
  settings: GateSettings;
  priority: Priority;
  clock: () => number;
}

/**
 * The fetch every adapter call of this connection uses: the breaker must let it through, the
 * limiter must have a token, and the answer (status, Retry-After, quota headers) settles both.
 */
export function gatedFetch(g: Gated): typeof fetch {
  return async (input, init) => {
    const { limits, connection, settings, priority } = g;
    const now = await awaitPermit(g);
    const spendId = newId("call");
    limits.saveLimiter(
      take(limits.limiter(), settings.rateLimit, { id: spendId, at: now, cost: 1, priority }, now),
    );
    let res: Response;
    try {
      res = await fetch(input, init);
    } catch (err) {
      // No answer (network, timeout): the platform failed us.
      const finishedAt = g.clock();
      limits.saveLimiter(settle(limits.limiter(), settings.rateLimit, spendId, { finishedAt }));
      await limits.saveBreaker(
        onFailure(limits.breaker(), settings.breaker, finishedAt),
        connection,
      );
      throw err;
    }
    await settleAnswer(g, spendId, res);
    return res;
  };
}

/**
 * Wait for the breaker and the limiter to let one call leave, and take the breaker's permit (the
 * half-open probe); the time it may leave at. Inbound calls (a new booking to fetch) may wait here
 * a little for a token or for the probe to report; pushes never wait in memory: a GateHeldError
 * hands them back and the alarm comes back for them.
 */
async function awaitPermit(g: Gated): Promise<number> {
  const { limits, settings, priority } = g;
  const giveUpAt = Date.now() + (priority === "inbound" ? INBOUND_MAX_WAIT_MS : 0);
  let now = g.clock();
  let p = permit(limits.breaker(), settings.breaker, now);
  for (;;) {
    const wait = p.allowed
      ? waitMs(limits.limiter(), settings.rateLimit, 1, now, priority)
      : p.retryInMs;
    if (wait <= 0) break;
    const probing = !p.allowed && p.breaker.state === "half_open";
    const pause = probing ? 50 : wait;
    if (Date.now() + pause > giveUpAt) {
      const reason = p.allowed ? "rate_limit" : "circuit_open";
      throw GateHeldError.until(g.connection.platform, now + wait, reason, now);
    }
    await scheduler.wait(pause);
    now = g.clock();
    p = permit(limits.breaker(), settings.breaker, now);
  }
  if (!p.allowed) throw new Error("unreachable: a refused permit always waits or defers");
  await limits.saveBreaker(p.breaker, g.connection);
  return now;
}

/** The platform answered: settle the spend with what it said, and tell the breaker. */
async function settleAnswer(g: Gated, spendId: string, res: Response): Promise<void> {
  const { limits, settings } = g;
  const finishedAt = g.clock();
  limits.saveLimiter(
    settle(limits.limiter(), settings.rateLimit, spendId, {
      finishedAt,
      status: res.status,
      retryAfterSeconds:
        res.status === 429 || res.status === 503
          ? parseRetryAfter(res.headers.get("retry-after"), finishedAt)
          : undefined,
      ...limitHeaders(res.headers),
    }),
  );
  const breaker = limits.breaker();
  // 5xx: the platform is failing. 429: slow down (the limiter's business). Anything else,
  // including a 4xx refusing our input, shows the platform up.
  const next =
    res.status >= 500
      ? onFailure(breaker, settings.breaker, finishedAt)
      : res.status === 429
        ? onNeutral(breaker)
        : onSuccess(breaker, settings.breaker, finishedAt);
  await limits.saveBreaker(next, g.connection);
}
