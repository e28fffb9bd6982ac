import type { Context } from "hono";
import type { z } from "zod";

export type ReadResult<T> = { ok: true; data: T } | { ok: false; response: Response };

/** A 400 naming what is wrong with a control request. */
export function invalid(c: Context, message: string) {
  return c.json({ error: "validation_error", message }, 400);
}

/** Parse a JSON control body (an empty body is `{}`) against its schema. */
export async function readBody<S extends z.ZodType>(
  c: Context,
  schema: S,
): Promise<ReadResult<z.infer<S>>> {
  const raw = await c.req.text();
  let json: unknown = {};
  if (raw.trim()) {
    try {
      json = JSON.parse(raw);
    } catch {
      return { ok: false, response: invalid(c, "body is not valid JSON") };
    }
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, data: parsed.data };
  const message = parsed.error.issues
    .map((i) => `${i.path.join(".") || "body"}: ${i.message}`)
    .join("; ");
  return { ok: false, response: invalid(c, message) };
}
