import { gateFor } from "../../durable-objects/channel-gate/client";
import { alertStatement } from "../store/alerts";
import { ID_NOUNS, PLATFORM_NAMES } from "../platforms/external-ids";
import { errorMessage, log } from "../lib/log";
import { replayUnmappedFor } from "../queue/replay-unmapped";
import { verifyWithPlatform, type Verification } from "../services/mapping-verification";
import {
  confirmMapping,
  postponeMapping,
  refuseMappingStatement,
  takeDueMappings,
  type DueMapping,
} from "../store/mapping-queue";

/**
 * Every minute: ask the platforms about mappings not confirmed yet — those kept pending while a
 * platform could not be reached, and those made before ownership checks existed. Confirmed ones
 * start syncing (held work is flushed, unmapped bookings replayed); refused ones are deleted with
 * an alert, so a mapping the platform never confirmed can neither push nor keep the id from its
 * owner. Each mapping is leased, so overlapping runs never ask twice.
 */

/** Per run: each check is one gate RPC and about three D1 queries, far below one invocation's 1,000. */
const BATCH = 50;
const LEASE_MS = 5 * 60_000;
const MISSING_CREDENTIALS_RETRY_MS = 3_600_000;

export interface VerifyRun {
  confirmed: number;
  refused: number;
  pending: number;
}

export async function verifyDueMappings(env: Env, now: number): Promise<VerifyRun> {
  const due = await takeDueMappings(env.DB, now, BATCH, LEASE_MS);
  const run: VerifyRun = { confirmed: 0, refused: 0, pending: 0 };
  for (const m of due) {
    try {
      const v = await verifyWithPlatform(
        env,
        { id: m.connectionId, tenantId: m.tenantId, platform: m.platform },
        { mappingType: m.mappingType, externalId: m.externalId },
      );
      await settle(env, m, v, Date.now());
      run[v.status === "missing_credentials" ? "pending" : v.status] += 1;
    } catch (err) {
      // The lease brings it back; one failing mapping does not stop the others.
      log("error", "verify_mappings.failed", { mappingId: m.id, error: errorMessage(err) });
    }
  }
  return run;
}

async function settle(env: Env, m: DueMapping, v: Verification, now: number): Promise<void> {
  switch (v.status) {
    case "confirmed": {
      const changed = await confirmMapping(env.DB, m, now);
      if (changed > 0 && m.status === "pending") await startSyncing(env, m);
      return;
    }
    case "refused":
      await refuse(env, m, v.reason, now);
      return;
    case "pending":
      await postponeMapping(env.DB, m, v.reason, now, v.retryInMs);
      return;
    case "missing_credentials":
      await postponeMapping(env.DB, m, v.message, now, MISSING_CREDENTIALS_RETRY_MS);
  }
}

async function refuse(env: Env, m: DueMapping, reason: string, now: number): Promise<void> {
  const noun = ID_NOUNS[m.platform][m.mappingType];
  log("warn", "verify_mappings.refused", { mappingId: m.id, reason });
  await env.DB.batch([
    refuseMappingStatement(env.DB, m, reason, now),
    alertStatement(
      env.DB,
      {
        tenantId: m.tenantId,
        kind: "mapping_refused",
        severity: "critical",
        message: `${PLATFORM_NAMES[m.platform]} did not confirm ${noun} ${m.externalId} for connection ${m.connectionId}: mapping ${m.id} was removed and nothing more is sent to it; check the connection's credentials and map it again`,
        details: { mappingId: m.id, connectionId: m.connectionId },
        dedupeKey: `mapping_refused:${m.id}`,
      },
      now,
    ),
  ]);
}

/** Work held while the mapping was pending goes out, and bookings kept unmapped import. */
async function startSyncing(env: Env, m: DueMapping): Promise<void> {
  await replayUnmappedFor(env, {
    tenantId: m.tenantId,
    connectionId: m.connectionId,
    platform: m.platform,
    mappingType: m.mappingType,
    externalId: m.externalId,
  });
  if (m.mappingType !== "property") await gateFor(env, m.connectionId).flushNow();
}
