import { log, errorMessage } from "../lib/log";
import type { PullMessage } from "../queue/messages";
import { relayStaleOutbox } from "../queue/outbox";
import { withCapability } from "../platforms/registry";
import { takeDuePulls } from "../store/pulls";
import { retentionCatchUp, runRetention } from "./retention";
import { unparkDeadLetters } from "./unpark-dead-letters";
import { verifyDueMappings } from "./verify-mappings";

type Job = (env: Env, scheduledTime: number) => Promise<unknown>;

/**
 * The platforms whose pull interval has come round at this minute (an interval of one minute is
 * every tick).
 */
export function pullPlatformsDue(scheduledTime: number) {
  const minute = Math.floor(scheduledTime / 60_000);
  return withCapability("pull")
    .filter((m) => minute % Math.max(1, Math.round(m.pull.intervalMs / 60_000)) === 0)
    .map((m) => m.id);
}

/**
 * Pull platforms' reservations (declared by their modules): this is the fallback when a push
 * notification is lost. Only connections whose pull is due are taken (connection_pulls.next_pull_at,
 * a lease), so a pull the gate holds or that keeps failing is not sent again every minute: at most
 * one waits per connection.
 */
async function pollPullPlatforms(env: Env, scheduledTime: number): Promise<number> {
  const platforms = pullPlatformsDue(scheduledTime);
  if (platforms.length === 0) return 0;
  const due = await takeDuePulls(env.DB, platforms, scheduledTime);
  const minute = Math.floor(scheduledTime / 60_000);
  const messages = due.map((c): PullMessage => ({
    v: 1,
    kind: "pull",
    platform: c.platform,
    connectionId: c.connectionId,
    tenantId: c.tenantId,
    key: `${c.platform}:pull:${c.connectionId}:${minute}`,
    requestedAt: scheduledTime,
  }));
  for (let i = 0; i < messages.length; i += 100) {
    await env.INBOUND_QUEUE.sendBatch(
      messages.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const })),
    );
  }
  return messages.length;
}

export const JOBS: Record<string, Job> = {
  "relay-stale-outbox": (env, t) => relayStaleOutbox(env, t),
  "poll-pull-platforms": pollPullPlatforms,
  // Leased per mapping (next_verify_at): overlapping runs take different ones.
  "verify-mappings": (env, t) => verifyDueMappings(env, t),
  // Leased per letter in the vault; a letter leaves the vault only once its queue took it.
  "unpark-dead-letters": (env) => unparkDeadLetters(env),
  // Under its own lease (src/jobs/leases.ts): an overlapping run does nothing.
  retention: (env, t) => runRetention(env, t),
  // Runs retention again at once while the last run left a backlog (same lease).
  "retention-catch-up": (env, t) => retentionCatchUp(env, t),
};

/** Exact cron expression (as in wrangler.toml) → the named jobs it runs. */
export const SCHEDULES: Record<string, readonly (keyof typeof JOBS)[]> = {
  "* * * * *": [
    "relay-stale-outbox",
    "poll-pull-platforms",
    "verify-mappings",
    "unpark-dead-letters",
    "retention-catch-up",
  ],
  "17 * * * *": ["retention"],
};

export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const names = SCHEDULES[controller.cron];
  if (!names) {
    log("error", "cron.unknown_schedule", { cron: controller.cron });
    return;
  }
  // Each job is idempotent; one failing does not stop the others.
  const results = await Promise.allSettled(
    names.map(async (name) => {
      const job = JOBS[name];
      if (!job) throw new Error(`no job named ${name}`);
      const result = await job(env, controller.scheduledTime);
      log("info", "cron.job_done", { job: name, result });
    }),
  );
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  for (const f of failed) log("error", "cron.job_failed", { error: errorMessage(f.reason) });
  if (failed.length > 0) throw new Error(`${failed.length} cron job(s) failed`);
}
