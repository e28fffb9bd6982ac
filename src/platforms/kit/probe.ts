import type { ZodError } from "zod";

/** Helpers of the payload probes (each module's `probe`, used by /channel-mappings/test). */

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Ids come as strings or (sometimes) numbers; anything else is not an id. */
export function idOf(v: unknown): string | null {
  if (typeof v === "string" && v.trim() !== "") return v.trim();
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return String(v);
  return null;
}

/** The first issue of a failed parse, as the ingress would name it. */
export function firstIssue(err: ZodError): string {
  const issue = err.issues[0];
  return issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
}
