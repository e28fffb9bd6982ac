import { and, asc, desc, eq, gt, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { encodeCursor, type Cursor } from "../lib/cursor";

/**
 * The one keyset page for every cursor-paginated list: ordered by (timestamp, id), newest first
 * unless the list lets the caller choose, and fetched with LIMIT limit + 1 so the page knows
 * whether another follows without counting. The cursor is the last row's (timestamp, id), so a
 * page is stable under concurrent inserts (new rows sort before a newest-first cursor).
 */

export interface PageRequest {
  limit: number;
  /** Decoded from `?cursor=` by http/pagination.ts (a bad one is a 400 there). */
  after: Cursor | null;
  order: "asc" | "desc";
}

export interface Page<R> {
  data: R[];
  next_cursor: string | null;
}

export interface PageKey<R> {
  ts: SQLiteColumn | SQL;
  id: SQLiteColumn | SQL;
  /** The row's value of `ts` (its id is `id`), for the next cursor. */
  of: (row: R) => Cursor;
}

/** The page's window: rows strictly after the cursor in the list's order, and that order. */
export function keyset(req: PageRequest, key: { ts: SQLiteColumn | SQL; id: SQLiteColumn | SQL }) {
  const past = (l: SQLiteColumn | SQL, r: number | string) =>
    req.order === "asc" ? gt(l as SQL, r) : lt(l as SQL, r);
  const dir = req.order === "asc" ? asc : desc;
  const after = req.after
    ? or(
        past(key.ts, req.after.ts),
        and(eq(key.ts as SQL, req.after.ts), past(key.id, req.after.id)),
      )
    : undefined;
  return { after, orderBy: [dir(key.ts), dir(key.id)], limit: req.limit + 1 };
}

/**
 * Run `fetch` with the window (`after` goes into its WHERE beside the list's own filters) and cut
 * the page. `fetch` is the list's Drizzle query, so every list shares this code and none writes
 * its own cursor arithmetic.
 */
export async function listPage<R>(
  req: PageRequest,
  key: PageKey<R>,
  fetch: (w: { after: SQL | undefined; orderBy: SQL[]; limit: number }) => Promise<R[]>,
): Promise<Page<R>> {
  const rows = await fetch(keyset(req, key));
  const data = rows.slice(0, req.limit);
  const last = data[data.length - 1];
  return {
    data,
    next_cursor: rows.length > req.limit && last ? encodeCursor(key.of(last)) : null,
  };
}
