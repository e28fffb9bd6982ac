import { z } from "@hono/zod-openapi";
import { ApiError } from "./errors";
import { decodeCursor, encodeCursor, type Cursor } from "../lib/cursor";
import type { PageRequest } from "../store/page";

/**
 * Keyset pagination shared by the list routes: `?limit=&cursor=`, newest first, ordered by
 * (timestamp DESC, id DESC), or oldest first where a route lets the caller choose. The cursor is opaque to clients: base64url of "<ts>.<id>" of the
 * last row of the previous page.
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

/**
 * `AND (column, id) < cursor` for a newest-first keyset page (`> cursor` for an oldest-first one,
 * `order = "asc"`, ORDER BY column ASC, id ASC), or nothing on the first page. Decodes the raw
 * `?cursor=` first, so a bad one is a 400 before any lookup. Column names are the caller's
 * constants, never input.
 */
export function afterCursor(
  cursor: string | undefined,
  column = "created_at",
  idColumn = "id",
  order: "asc" | "desc" = "desc",
): { sql: string; binds: Array<string | number> } {
  const after = cursorOf(cursor);
  const op = order === "asc" ? ">" : "<";
  return after
    ? {
        sql: `AND (${column} ${op} ? OR (${column} = ? AND ${idColumn} ${op} ?))`,
        binds: [after.ts, after.ts, after.id],
      }
    : { sql: "", binds: [] };
}

/** rows were fetched with LIMIT limit + 1: trim and say where the next page starts. */
export function page<T extends { id: string }>(
  rows: T[],
  limit: number,
  tsOf: (row: T) => number,
): { data: T[]; next_cursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return {
    data,
    next_cursor: rows.length > limit && last ? encodeCursor({ ts: tsOf(last), id: last.id }) : null,
  };
}
