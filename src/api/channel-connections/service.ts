import type { z } from "@hono/zod-openapi";
import { gateFor } from "../../../durable-objects/channel-gate/client";
import { ApiError } from "../../http/errors";
import { CredentialsError, encryptCredentials } from "../../lib/credentials-crypto";
import { errorMessage, log } from "../../lib/log";
import { ID_NOUNS } from "../../platforms/external-ids";
import {
  liveDuplicateOf,
  type ConnectionChanges,
  type ConnectionView,
} from "../../store/connections";
import type { Platform } from "../../store/schema/channels.schema";
import type { UpdateConnectionBody } from "./schemas";

/** What the connection routes share: the 409s, sealing credentials, a PATCH's changes. */

export interface ConnectionKey {
  id: string;
  propertyId: string;
  platform: Platform;
  externalPropertyId: string;
}

export const notFound = (id: string) =>
  new ApiError(404, "not_found", `channel connection ${id} not found`);

export function duplicate(kind: "property" | "external" | "unknown", c: ConnectionKey) {
  if (kind === "property") {
    return new ApiError(
      409,
      "conflict",
      `property ${c.propertyId} already has a live ${c.platform} connection`,
      [{ path: "platform", message: "one live connection per property and platform" }],
    );
  }
  if (kind === "external") {
    // Another connection holds it, maybe another tenant's: the words never say whose or whether.
    const message = `this ${ID_NOUNS[c.platform].property} cannot be connected: it is already connected elsewhere, or not reachable with this connection's credentials`;
    return new ApiError(409, "external_id_unavailable", message, [
      { path: "external_property_id", message },
    ]);
  }
  return new ApiError(409, "conflict", "conflicts with a live channel connection");
}

/**
 * 409 before writing, naming the rule. The (platform, external id) rule spans tenants (a webhook
 * names only the platform's id), so that message never says whose connection it is.
 */
export async function assertNoLiveDuplicate(db: D1Database, c: ConnectionKey): Promise<void> {
  const clash = await liveDuplicateOf(db, c);
  if (clash) throw duplicate(clash, c);
}

export async function sealCredentials(
  env: Env,
  binding: { tenantId: string; connectionId: string },
  credentials: Record<string, string>,
) {
  try {
    return await encryptCredentials(env, binding, credentials);
  } catch (err) {
    if (!(err instanceof CredentialsError)) throw err;
    // The reason names the keyring entry at fault, never key material or the credentials.
    log("error", "credentials.encrypt_failed", { reason: err.message, code: err.code });
    throw new ApiError(
      500,
      "credentials_unavailable",
      "credentials could not be encrypted: the server's CREDENTIALS_KEYS is misconfigured",
    );
  }
}

/** A PATCH body as the columns it changes; given credentials are sealed first. */
export async function changesOf(
  env: Env,
  binding: { tenantId: string; connectionId: string },
  body: z.infer<typeof UpdateConnectionBody>,
): Promise<ConnectionChanges> {
  const set: ConnectionChanges = { updatedAt: 0 };
  if (body.external_property_id !== undefined) set.externalPropertyId = body.external_property_id;
  if (body.status !== undefined) set.status = body.status;
  if (body.sync_direction !== undefined) set.syncDirection = body.sync_direction;
  if (body.sync_availability !== undefined) set.syncAvailability = body.sync_availability;
  if (body.sync_pricing !== undefined) set.syncPricing = body.sync_pricing;
  if (body.sync_bookings !== undefined) set.syncBookings = body.sync_bookings;
  if (body.credentials !== undefined) {
    const sealed =
      body.credentials === null ? null : await sealCredentials(env, binding, body.credentials);
    set.credentialsCiphertext = sealed?.ciphertext ?? null;
    set.credentialsKeyId = sealed?.keyId ?? null;
  }
  if (body.gate_settings !== undefined) {
    set.gateSettings = body.gate_settings ? JSON.stringify(body.gate_settings) : null;
  }
  set.updatedAt = Date.now();
  return set;
}

/** Did this change lift something that kept outbound pushes from going out? */
export function unblocksOutbound(before: ConnectionView, after: ConnectionView): boolean {
  if (after.status !== "active") return false;
  return (
    before.status !== "active" ||
    (!before.syncAvailability && after.syncAvailability) ||
    (!before.syncPricing && after.syncPricing) ||
    (!before.syncBookings && after.syncBookings) ||
    (before.syncDirection === "inbound_only" && after.syncDirection !== "inbound_only")
  );
}

/** Pending outbound work (kept while blocked) goes out now rather than at the next change. */
export function flushSoon(
  env: Env,
  ctx: { waitUntil(p: Promise<unknown>): void },
  connectionId: string,
): void {
  ctx.waitUntil(
    gateFor(env, connectionId)
      .flushNow()
      .then(() => undefined)
      .catch((err: unknown) =>
        log("warn", "connection.flush_failed", { connectionId, error: errorMessage(err) }),
      ),
  );
}
