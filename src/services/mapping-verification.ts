import { gateFor } from "../../durable-objects/channel-gate/client";
import type { Platform } from "../store/schema/channels.schema";
import { ID_NOUNS, PLATFORM_NAMES, type MappingType } from "../platforms/external-ids";
import { errorMessage } from "../lib/log";
import { getAdapter } from "../platforms/registry";
import type { GateResult, MappingVerdict } from "../platforms/contract";

/**
 * Whether a platform id may be mapped on a connection, asked of the platform itself through the
 * connection's ChannelGate (its credentials, rate limit and breaker). The API and the
 * verify-mappings job share this, so both read a platform's answer the same way.
 */

export type Verification =
  /** The platform knows the id and this connection's account may write it. */
  | { status: "confirmed" }
  /** The platform said no: unknown id, another account's, or credentials it refuses. */
  | { status: "refused"; reason: string }
  /** The platform could not be asked now (unreachable, rate-limited, no adapter yet). */
  | { status: "pending"; reason: string; retryInMs?: number }
  /** Nothing can be asked: the connection has no credentials of its own and may borrow none. */
  | { status: "missing_credentials"; message: string };

/** A platform without a mapping check is asked again hourly (a deploy may have added one). */
const NO_ADAPTER_RETRY_MS = 3_600_000;

export interface VerifyTarget {
  id: string;
  tenantId: string;
  platform: Platform;
}

export async function verifyWithPlatform(
  env: Env,
  connection: VerifyTarget,
  claim: { mappingType: MappingType; externalId: string },
): Promise<Verification> {
  if (!getAdapter(connection.platform)?.verifyMapping) {
    const name = PLATFORM_NAMES[connection.platform];
    return {
      status: "pending",
      reason: `${name} has no adapter yet: confirmed once it has one`,
      retryInMs: NO_ADAPTER_RETRY_MS,
    };
  }
  let result: GateResult<MappingVerdict>;
  try {
    // RPC wraps the declared type; the value is exactly the gate's GateResult.
    result = (await gateFor(env, connection.id).verifyMapping({
      tenantId: connection.tenantId,
      connectionId: connection.id,
      claim,
    })) as GateResult<MappingVerdict>;
  } catch (err) {
    return { status: "pending", reason: `the check could not run: ${errorMessage(err)}` };
  }
  if (result.ok) {
    return result.value.confirmed
      ? { status: "confirmed" }
      : { status: "refused", reason: result.value.reason };
  }
  const e = result.error;
  if (e.missingCredentials) return { status: "missing_credentials", message: e.message };
  // A 401 after a fresh token: the platform refuses this connection's credentials themselves.
  if (e.kind === "auth") return { status: "refused", reason: e.message };
  return { status: "pending", reason: e.message };
}

/**
 * The one answer for an id this connection may not have, whichever the cause: taken by another
 * connection (of any tenant), unknown to the platform, or not this account's. It never says which,
 * so nobody can probe for another tenant's listings.
 */
export function unavailableText(platform: Platform, mappingType: MappingType): string {
  return `this ${ID_NOUNS[platform][mappingType]} cannot be mapped: it is already connected elsewhere, or not reachable with this connection's credentials`;
}
