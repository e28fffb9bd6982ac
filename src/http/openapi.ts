import { OpenAPIHono, z, type Hook } from "@hono/zod-openapi";
import type { AuthContext } from "./auth";
import { ApiError, zodIssues } from "./errors";
import { findUnstorableText } from "./storable-text";
import { ID_FORMAT } from "../lib/ids";

export type AppEnv = { Bindings: Env; Variables: { auth: AuthContext } };

/**
 * The one validation wrapper: a failed path/query/header check is a 400, a well-formed body that
 * breaks a rule is a 422; both name the field. onError turns the ApiError into the envelope.
 */
export const validationHook: Hook<unknown, AppEnv, string, undefined> = (result) => {
  if (result.success) {
    // Valid by its schema, but text D1 would not store exactly is refused before any write.
    const bad = result.target === "json" ? findUnstorableText(result.data) : null;
    if (bad) {
      throw new ApiError(422, "validation_failed", `body is invalid: ${bad.path}: ${bad.message}`, [
        bad,
      ]);
    }
    return;
  }
  const issues = zodIssues(result.error);
  const first = issues[0];
  const status = result.target === "json" ? 422 : 400;
  const where = result.target === "json" ? "body" : result.target;
  throw new ApiError(
    status,
    "validation_failed",
    `${where} is invalid: ${first ? `${first.path}: ${first.message}` : "unknown"}`,
    issues,
  );
};

/** A resource sub-app: mounted with app.route(), its routes documented from their zod schemas. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "validation_failed" }),
      message: z.string().openapi({ example: "body is invalid: external_id: must be numeric" }),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

/** `content` of a JSON request body or response: `{ "application/json": { schema } }`. */
export const jsonContent = <T extends z.ZodTypeAny>(schema: T) => ({
  content: { "application/json": { schema } },
});

/** A documented JSON response: `responses: { 200: ok("The thing", ThingSchema) }`. */
export const ok = <T extends z.ZodTypeAny>(description: string, schema: T) => ({
  description,
  ...jsonContent(schema),
});

/** A required JSON request body: `request: { params: IdParam, ...jsonBody(CreateThing) }`. */
export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({
  body: { ...jsonContent(schema), required: true },
});

const errorResponse = (description: string) => ok(description, ErrorSchema);

/** The error answers every authenticated route can give, for the OpenAPI document. */
export const AUTH_ERRORS = {
  400: errorResponse("Invalid path or query parameter"),
  401: errorResponse("Missing, malformed, unknown or revoked token"),
  403: errorResponse("The token's role may not do this"),
  404: errorResponse("Not found (or belongs to another tenant)"),
} as const;

export const WRITE_ERRORS = {
  ...AUTH_ERRORS,
  409: errorResponse("Conflicts with an existing resource"),
  422: errorResponse("Body is well-formed but breaks a rule"),
} as const;

export const BEARER = [{ Bearer: [] }];

/** The id format of every resource (prop_…, con_…): checked in paths, bodies and queries. */
export { ID_FORMAT };

export const IdParam = z.object({
  id: z
    .string()
    .regex(ID_FORMAT, "must be an id like con_… ")
    .openapi({ param: { name: "id", in: "path" }, example: "con_9f2c…" }),
});

/** An id in a body or query (same format IdParam checks in paths). */
export const IdRef = (example: string) =>
  z.string().regex(ID_FORMAT, "must be an id like prop_… ").openapi({ example });
