import { z } from "@hono/zod-openapi";
import { ID_FORMAT } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";
import { externalIdRulesMarkdown } from "../../platforms/external-ids";
import { aliasNote, PLATFORM_INPUTS, platformOf } from "../../platforms/ids";
import { withCapability } from "../../platforms/registry";
import type { MappingView } from "../../store/mappings";
import { MAPPING_STATUSES, MAPPING_TYPES, PLATFORMS } from "../../store/schema/channels.schema";

/** /api/v1/channel-mappings: the request and response schemas, and the mapping presenter. */

/** Like IdRef, but trimmed first. */
const idField = (example: string) =>
  z.string().trim().regex(ID_FORMAT, "must be an id like con_…").openapi({ example });

export const MappingSchema = z
  .object({
    id: z.string().openapi({ example: "map_5d0f…" }),
    connection_id: z.string(),
    property_id: z.string().openapi({ description: "The connection's property" }),
    platform: z.enum(PLATFORMS).openapi({ description: "Taken from the connection" }),
    mapping_type: z.enum(MAPPING_TYPES),
    internal_id: z.string().openapi({ description: "Property, room type or rate plan id" }),
    external_id: z.string().openapi({ description: "The platform's id" }),
    status: z.enum(MAPPING_STATUSES).openapi({
      description:
        "confirmed: the platform confirmed, with the connection's own credentials, that the id is this account's; only confirmed mappings are pushed to and route bookings. pending: the platform could not be asked yet (unreachable, or no adapter yet); it is asked again every minute. refused: the platform later said no; the mapping is deleted with it.",
    }),
    verified_at: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "When the platform last confirmed the id; null: never" }),
    verification_error: z
      .string()
      .nullable()
      .openapi({ description: "Why the last check did not confirm it" }),
    created_at: z.number().int(),
    updated_at: z.number().int(),
    deleted_at: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Set by DELETE; the row stays readable for history" }),
  })
  .openapi("ChannelMapping");
export type MappingJson = z.infer<typeof MappingSchema>;

/** A stored mapping as the API shows it (snake_case, the keys in the schema's order). */
export function present(v: MappingView): MappingJson {
  return {
    id: v.id,
    connection_id: v.connectionId,
    property_id: v.propertyId,
    platform: v.platform,
    mapping_type: v.mappingType,
    internal_id: v.internalId,
    external_id: v.externalId,
    status: v.status,
    verified_at: v.verifiedAt,
    verification_error: v.verificationError,
    created_at: v.createdAt,
    updated_at: v.updatedAt,
    deleted_at: v.deletedAt,
  };
}

const ExternalIdField = z
  .string()
  .trim()
  .min(1)
  .max(2048)
  .openapi({
    example: "53170118",
    description: `The platform's id; its format is checked per platform and mapping type (a wrong one is a 422 naming the rule):\n${externalIdRulesMarkdown()}`,
  });

export const CreateMappingBody = z
  .object({
    connection_id: idField("con_9f2c…"),
    mapping_type: z.enum(MAPPING_TYPES),
    internal_id: idField("rt_4b1a…").openapi({
      description:
        "A property (the connection's), room type or rate plan of the connection's property",
    }),
    external_id: ExternalIdField,
  })
  .openapi("CreateChannelMapping");

export const UpdateMappingBody = z
  .object({
    internal_id: idField("rt_4b1a…").optional(),
    external_id: ExternalIdField.optional(),
  })
  .refine((b) => b.internal_id !== undefined || b.external_id !== undefined, {
    message: "give external_id and/or internal_id",
  })
  .openapi("UpdateChannelMapping");

export const ListQuery = PageQuery.extend({
  connection_id: idField("con_9f2c…").optional(),
  property_id: idField("prop_71ae…")
    .optional()
    .openapi({ description: "Mappings of the property's connections" }),
  platform: z
    .enum(PLATFORM_INPUTS)
    .optional()
    .transform((p) => (p === undefined ? undefined : platformOf(p)))
    .openapi({ description: aliasNote("is accepted for") }),
  mapping_type: z.enum(MAPPING_TYPES).optional(),
  include_deleted: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => v === "true")
    .openapi({ description: "Also list soft-deleted mappings (default false)" }),
});

/** The platforms whose sample payloads can be tested, and the kinds of payload each reads. */
export const PROBE_MODULES = withCapability("probe");
const PAYLOAD_TYPES = PROBE_MODULES.flatMap((m) => m.probe.payloadTypes) as [string, ...string[]];

export const TestBody = z
  .object({
    connection_id: idField("con_9f2c…"),
    payload: z.record(z.string(), z.unknown()).openapi({
      description: `A sample inbound payload of the connection's platform: ${PROBE_MODULES.map((m) => m.probe.shapes).join("; ")}`,
      example: PROBE_MODULES.find((m) => m.probe.example)?.probe.example,
    }),
  })
  .openapi("ChannelMappingTest");

const EntityRef = z.object({ id: z.string(), name: z.string() });

export const TestResultSchema = z
  .object({
    mapped: z.boolean().openapi({
      description: "Everything the payload names that a booking needs resolves on this connection",
    }),
    connection_id: z.string(),
    platform: z.enum(PLATFORMS),
    payload_type: z.enum(PAYLOAD_TYPES),
    external_ids: z.object({
      property: z.string().nullable(),
      room_type: z.string().nullable(),
      rate_plan: z.string().nullable(),
    }),
    property: EntityRef.nullable(),
    room_type: EntityRef.nullable(),
    rate_plan: EntityRef.nullable(),
    warnings: z.array(z.string()),
  })
  .openapi("ChannelMappingTestResult");
export type TestResult = z.infer<typeof TestResultSchema>;

export const TAGS = ["Channel mappings"];
