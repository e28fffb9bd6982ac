import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z, ZodError } from "zod";
import { log } from "../lib/log";

/**
 * One error envelope for the whole API:
 *   { "error": { "code": "invalid_signature", "message": "...", "details": [...] } }
 */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(status, { message });
  }
}

/** Turn a zod failure into the list of fields and what is wrong with each. */
export function zodIssues(err: ZodError): Array<{ path: string; message: string }> {
  return err.issues.map((i) => ({ path: i.path.join(".") || "(root)", message: i.message }));
}

/** The one validation wrapper: parse or throw a 400 (or 422 for well-formed but invalid data). */
export function validate<T extends z.ZodType>(
  schema: T,
  value: unknown,
  opts: { status?: 400 | 422; what?: string } = {},
): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = zodIssues(result.error);
  const first = issues[0];
  throw new ApiError(
    opts.status ?? 400,
    "validation_failed",
    `${opts.what ?? "request"} is invalid: ${first ? `${first.path}: ${first.message}` : "unknown"}`,
    issues,
  );
}

export function errorResponse(c: Context, err: Error): Response {
  if (err instanceof ApiError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details !== undefined) body.error.details = err.details;
    return c.json(body, err.status, err.headers);
  }
  if (err instanceof HTTPException) {
    const code = err.status === 404 ? "not_found" : `http_${err.status}`;
    return c.json({ error: { code, message: err.message || "request failed" } }, err.status);
  }
  if (err instanceof ZodError) {
    const issues = zodIssues(err);
    return c.json(
      { error: { code: "validation_failed", message: "request is invalid", details: issues } },
      400,
    );
  }
  log("error", "http.unhandled", { path: c.req.path, error: err.message, stack: err.stack });
  return c.json({ error: { code: "internal_error", message: "internal error" } }, 500);
}
