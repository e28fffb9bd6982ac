/**
 * Text the database cannot keep exactly. A lone UTF-16 surrogate ("\ud800", legal in JSON
 * escapes) becomes U+FFFD on its way into D1, so the API would answer one thing and store
 * another. A NUL is stored, but SQLite's text functions (length, json_object, LIKE) stop at it,
 * so what the engine derives from such a value differs from the value. Both are refused where
 * the body is validated, naming the field, so what the API answers is always what it stored.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function storableTextProblem(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return "contains a lone UTF-16 surrogate, which cannot be stored";
  if (value.includes("\u0000"))
    return "contains a NUL character, which the database's text functions cut at";
  return null;
}

/** The first string in a parsed body (keys included) that cannot be stored exactly. */
export function findUnstorableText(
  value: unknown,
  path: string[] = [],
): { path: string; message: string } | null {
  if (typeof value === "string") {
    const problem = storableTextProblem(value);
    return problem ? { path: path.join(".") || "(root)", message: problem } : null;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findUnstorableText(item, [...path, String(i)]);
      if (found) return found;
    }
    return null;
  }
  if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const keyProblem = storableTextProblem(key);
      if (keyProblem) return { path: [...path, key].join("."), message: `key ${keyProblem}` };
      const found = findUnstorableText(item, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}
