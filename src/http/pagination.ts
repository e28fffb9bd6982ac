import { z } from "@hono/zod-openapi";
import { ApiError } from "./errors";
import { decodeCursor, type Cursor } from "../lib/cursor";
import type { PageRequest } from "../store/page";

/**
 * The HTTP half of keyset pagination: `?limit=&cursor=` in, `{ data, next_cursor }` out. The query
 * half is store/page.ts's listPage(); the cursor (lib/cursor.ts) is opaque to clients.
 */

/** The list query: `?limit=&cursor=`; routes with filters extend it. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ example: 50 }),
  cursor: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: "Opaque cursor from the previous page's next_cursor" }),
});

/** A page's response body: `{ data: [...], next_cursor }`. */
export const pageSchema = <T extends z.ZodTypeAny>(item: T) =>
  z.object({
    data: z.array(item),
    next_cursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as ?cursor= for the next page; null on the last page" }),
  });

/** `?cursor=` decoded, or a 400 naming `cursor` before any lookup. */
function cursorOf(cursor: string | undefined): Cursor | null {
  if (cursor === undefined) return null;
  const after = decodeCursor(cursor);
  if (after) return after;
  const message = "not a cursor from a previous page";
  throw new ApiError(400, "validation_failed", `query is invalid: cursor: ${message}`, [
    { path: "cursor", message },
  ]);
}

/** A list query as store/page.ts's listPage() takes it. */
export function pageRequest(
  q: { limit: number; cursor?: string | undefined },
  order: "asc" | "desc" = "desc",
  opts: { emptyCursorIsFirstPage?: boolean } = {},
): PageRequest {
  // An empty `?cursor=` is no cursor from a previous page: a 400, except where a list has
  // always read it as the first page (channel mappings).
  const cursor = opts.emptyCursorIsFirstPage && q.cursor === "" ? undefined : q.cursor;
  return { limit: q.limit, after: cursorOf(cursor), order };
}
