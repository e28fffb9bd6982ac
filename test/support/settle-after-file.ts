import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll } from "vitest";

/**
 * Background work a test file started (the outbox relay, queue deliveries, gate alarms) is
 * finished or cancelled before the file ends. An invocation that crosses into the next file can
 * stall the Workers test pool with no CPU and no timeout (caught by the hang watch,
 * test/support/hang-watch-reporter.ts); no test relies on work outliving its file.
 */
const SETTLE_MAX_MS = 5_000;
/** Gates already quietened by an earlier file (kept on the isolate across files). */
const quiet: Set<string> = ((globalThis as { __quietGates?: Set<string> }).__quietGates ??=
  new Set<string>());

afterAll(async () => {
  const deadline = Date.now() + SETTLE_MAX_MS;
  while (Date.now() < deadline) {
    const busy = await env.DB.prepare(
      `SELECT (SELECT count(*) FROM outbox)
            + (SELECT count(*) FROM channel_events WHERE status IN ('received', 'processing')) AS n`,
    ).first<{ n: number }>();
    if (!busy?.n) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const id of await listDurableObjectIds(env.CHANNEL_GATE)) {
    const key = id.toString();
    if (quiet.has(key)) continue;
    quiet.add(key);
    await runInDurableObject(env.CHANNEL_GATE.get(id), (_gate, state) =>
      state.storage.deleteAlarm(),
    );
  }
  // Let invocations already under way (a queue batch, a relay) finish inside this file.
  await new Promise((r) => setTimeout(r, 200));
}, 30_000);
