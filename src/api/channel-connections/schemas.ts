import { z } from "@hono/zod-openapi";
import { engineConfig } from "../../config";
import { gateSettingsSchema, type GateSettingsInput } from "../../domain/gate-settings";
import { IdRef } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";
import { aliasNote, PLATFORM_IDS, PLATFORM_INPUTS, platformOf } from "../../platforms/ids";
import { gateSettingsFor } from "../../services/gate-settings";
import type { ConnectionView } from "../../store/connections";
import type { SyncLogRow } from "../../store/sync-logs";
import {
  CONNECTION_STATUSES,
  PLATFORMS,
  SYNC_DIRECTIONS,
  type Platform,
} from "../../store/schema/channels.schema";
import { SYNC_STATUSES } from "../../store/schema/events.schema";

/** /api/v1/channel-connections: the request and response schemas, and the presenters. */

/** A platform's id or alias (ids.ts), stored as the platform's id. */
export const PlatformInput = z
  .enum(PLATFORM_INPUTS)
  .openapi({ example: PLATFORM_IDS[0], description: aliasNote("is an alias of") });
export const canonicalPlatform: (p: z.infer<typeof PlatformInput>) => Platform = platformOf;

const MAX_CREDENTIAL_KEYS = 20;
const Credentials = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "keys are 1-64 letters, digits, _ . or -"),
    z.string().min(1).max(8192),
  )
  .refine((o) => Object.keys(o).length <= MAX_CREDENTIAL_KEYS, {
    message: `at most ${MAX_CREDENTIAL_KEYS} keys`,
  })
  .openapi({
    description:
      "Write-only: API keys, OAuth tokens, webhook secrets. Encrypted at rest (AES-GCM) and never returned.",
    example: { api_key: "…" },
  });

const ExternalPropertyId = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .openapi({ example: "1234567", description: "The platform's id of the property" });

/** The overrides as taken and stored: the domain's schema, documented here. */
export const GateSettingsOverrides = gateSettingsSchema.openapi("GateSettingsOverrides", {
  description:
    "Per-connection overrides of the ChannelGate's pacing; every part is optional and whatever is " +
    "left out keeps the platform's default. rate_limit: capacity calls per rolling window_seconds, " +
    "reserve = share (0-0.5) kept for inbound calls. circuit: consecutive failures that open it, " +
    "seconds it stays open, successful probes that close it. coalesce: a push waits quiet_ms " +
    "after the last change but at most max_delay_ms after the first. Unknown keys are refused. " +
    "The gate applies them from its next flush.",
  example: { rate_limit: { capacity: 10, window_seconds: 60 }, circuit: { failure_threshold: 3 } },
});
/**
 * In request bodies: the domain schema itself, nullable, so a 422 names the inner field that is
 * wrong (a union would answer "invalid input" for a missing key). It stays unnamed (inline in the
 * document): .nullable() of the named component would turn that component nullable everywhere.
 */
const GateSettingsInputOrNull = gateSettingsSchema.nullable().optional();

export const EffectiveGateSettings = z
  .object({
    rate_limit: z.object({
      capacity: z.number().openapi({ description: "Calls (Beds24: credits) per window" }),
      window_seconds: z.number(),
      reserve: z.number().openapi({ description: "Share of the capacity kept for inbound calls" }),
    }),
    circuit: z.object({
      failure_threshold: z.number().int(),
      open_seconds: z.number(),
      success_threshold: z.number().int(),
    }),
    coalesce: z.object({ quiet_ms: z.number().int(), max_delay_ms: z.number().int() }),
  })
  .openapi("EffectiveGateSettings", {
    description:
      "What the connection's ChannelGate applies: the platform's published limit and the engine " +
      "defaults, with gate_settings on top",
    example: {
      rate_limit: { capacity: 20, window_seconds: 60, reserve: 0.1 },
      circuit: { failure_threshold: 5, open_seconds: 60, success_threshold: 2 },
      coalesce: { quiet_ms: 200, max_delay_ms: 1000 },
    },
  });

export const ConnectionSchema = z
  .object({
    id: z.string().openapi({ example: "con_4e1d…" }),
    property_id: z.string(),
    platform: z.enum(PLATFORMS),
    external_property_id: z.string(),
    status: z.enum(CONNECTION_STATUSES),
    sync_direction: z.enum(SYNC_DIRECTIONS),
    sync_availability: z.boolean(),
    sync_pricing: z.boolean(),
    sync_bookings: z.boolean(),
    has_credentials: z.boolean(),
    credentials_key_id: z
      .string()
      .nullable()
      .openapi({ description: "Id of the key the stored credentials are encrypted under" }),
    last_webhook_at: z.number().int().nullable(),
    last_outbound_success_at: z.number().int().nullable(),
    last_error: z.string().nullable(),
    // Responses are not validated: a union documents "the component or null" without altering it.
    gate_settings: z.union([GateSettingsOverrides, z.null()]).openapi({
      description: "The connection's own overrides; null when it uses the platform's defaults",
    }),
    effective_gate_settings: EffectiveGateSettings,
    created_at: z.number().int(),
    updated_at: z.number().int(),
  })
  .openapi("ChannelConnection");

export const CreateConnectionBody = z
  .object({
    property_id: IdRef("prop_3b1f…"),
    platform: PlatformInput,
    external_property_id: ExternalPropertyId,
    status: z.enum(CONNECTION_STATUSES).default("pending"),
    sync_direction: z.enum(SYNC_DIRECTIONS).default("bidirectional"),
    sync_availability: z.boolean().default(true),
    sync_pricing: z.boolean().default(true),
    sync_bookings: z.boolean().default(true),
    credentials: Credentials.optional(),
    gate_settings: GateSettingsInputOrNull.openapi({
      description:
        "Overrides of the platform's defaults (see GateSettingsOverrides); absent or null: none",
      example: { rate_limit: { capacity: 10, window_seconds: 60 } },
    }),
  })
  .openapi("CreateChannelConnection");

export const UpdateConnectionBody = z
  .object({
    external_property_id: ExternalPropertyId.optional(),
    status: z.enum(CONNECTION_STATUSES).optional(),
    sync_direction: z.enum(SYNC_DIRECTIONS).optional(),
    sync_availability: z.boolean().optional(),
    sync_pricing: z.boolean().optional(),
    sync_bookings: z.boolean().optional(),
    credentials: Credentials.nullable()
      .optional()
      .openapi({ description: "Replaces the stored credentials; null removes them" }),
    gate_settings: GateSettingsInputOrNull.openapi({
      description:
        "Replaces the stored overrides (see GateSettingsOverrides; not merged); null clears them",
      example: { circuit: { failure_threshold: 3, open_seconds: 120 } },
    }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: "give at least one field to change" })
  .openapi("UpdateChannelConnection");

export const ListQuery = PageQuery.extend({
  property_id: IdRef("prop_3b1f…").optional(),
  platform: PlatformInput.optional(),
  status: z.enum(CONNECTION_STATUSES).optional(),
});

export const SyncLogSchema = z
  .object({
    id: z.string(),
    event_id: z.string().nullable(),
    sync_type: z.string().openapi({ example: "availability_export" }),
    direction: z.enum(["inbound", "outbound"]),
    status: z.enum(SYNC_STATUSES),
    records_processed: z.number().int(),
    retry_count: z.number().int(),
    error: z.string().nullable(),
    triggered_at: z.number().int(),
    started_at: z.number().int().nullable(),
    finished_at: z.number().int().nullable(),
    duration_ms: z.number().int().nullable(),
  })
  .openapi("SyncLog");
export type Connection = z.infer<typeof ConnectionSchema>;

/** The stored overrides; a row that no longer validates is shown as null, as the gate ignores it. */
function storedGateSettings(stored: string | null): GateSettingsInput | null {
  if (!stored) return null;
  try {
    const parsed = gateSettingsSchema.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** gateSettingsFor's answer, in the API's snake_case and seconds. */
function effectiveGateSettings(
  row: ConnectionView,
  env: Env,
): z.infer<typeof EffectiveGateSettings> {
  const s = gateSettingsFor(row.platform, row.gateSettings, engineConfig(env).coalesce);
  return {
    rate_limit: {
      capacity: s.rateLimit.capacity,
      window_seconds: s.rateLimit.windowMs / 1000,
      reserve: s.rateLimit.reserve,
    },
    circuit: {
      failure_threshold: s.breaker.failureThreshold,
      open_seconds: s.breaker.openMs / 1000,
      success_threshold: s.breaker.successThreshold,
    },
    coalesce: { quiet_ms: s.coalesce.quietMs, max_delay_ms: s.coalesce.maxDelayMs },
  };
}

export function toApi(row: ConnectionView, env: Env): Connection {
  return {
    id: row.id,
    property_id: row.propertyId,
    platform: row.platform,
    external_property_id: row.externalPropertyId,
    status: row.status,
    sync_direction: row.syncDirection,
    sync_availability: row.syncAvailability,
    sync_pricing: row.syncPricing,
    sync_bookings: row.syncBookings,
    has_credentials: row.hasCredentials,
    credentials_key_id: row.credentialsKeyId,
    last_webhook_at: row.lastWebhookAt,
    last_outbound_success_at: row.lastOutboundSuccessAt,
    last_error: row.lastError,
    gate_settings: storedGateSettings(row.gateSettings),
    effective_gate_settings: effectiveGateSettings(row, env),
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export function syncLogToApi(r: SyncLogRow): z.infer<typeof SyncLogSchema> {
  return {
    id: r.id,
    event_id: r.eventId,
    sync_type: r.syncType,
    direction: r.direction,
    status: r.status,
    records_processed: r.recordsProcessed,
    retry_count: r.retryCount,
    error: r.error,
    triggered_at: r.triggeredAt,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    duration_ms: r.durationMs,
  };
}
