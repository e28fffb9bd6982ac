import { log, errorMessage } from "../lib/log";
import type { PullMessage } from "../queue/messages";
import { relayStaleOutbox } from "../queue/outbox";
import { runRetention } from "./retention";
import { verifyDueMappings } from "./verify-mappings";

type Job = (env: Env, scheduledTime: number) => Promise<unknown>;

/** Booking.com reservations are pulled: this is the fallback when a push notification is lost. */
async function pollPullPlatforms(env: Env, scheduledTime: number): Promise<number> {
  const rows = await env.DB.prepare(
    `SELECT id, tenant_id AS tenantId, platform FROM channel_connections
     WHERE platform = 'booking_com' AND status = 'active' AND sync_bookings = 1 AND sync_direction != 'outbound_only'`,
  ).all<{ id: string; tenantId: string; platform: "booking_com" }>();
  const minute = Math.floor(scheduledTime / 60_000);
  const messages = rows.results.map((c): PullMessage => ({
    v: 1,
    kind: "pull",
    platform: c.platform,
    connectionId: c.id,
    tenantId: c.tenantId,
    // One pull per connection per minute, whatever cron overlap or redelivery happens.
    key: `${c.platform}:pull:${c.id}:${minute}`,
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
  // Under its own lease (src/jobs/leases.ts): an overlapping run does nothing.
  retention: (env, t) => runRetention(env, t),
};

/** Exact cron expression (as in wrangler.toml) → the named jobs it runs. */
export const SCHEDULES: Record<string, readonly (keyof typeof JOBS)[]> = {
  "* * * * *": ["relay-stale-outbox", "poll-pull-platforms", "verify-mappings"],
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
