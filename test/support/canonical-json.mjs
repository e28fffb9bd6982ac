// One canonical text of a JSON value (object keys sorted, arrays in order), shared by
// scripts/gen-api-types.mjs and test/workers/api/api-schema.test.ts: the document's hash then changes
// when its content does, not when a router is mounted in another order.
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
