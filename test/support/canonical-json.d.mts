/** Types of canonical-json.mjs (one canonical text of a JSON value, keys sorted). */
export declare function canonicalJson(value: unknown): string;
