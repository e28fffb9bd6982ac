import { z } from "zod";
import { joinUrl, readJson } from "../kit/http";
import type { AdapterContext, MappingClaim, MappingVerdict } from "../contract";
import { CONFIRMED, notConfirmed, refusalOf } from "../kit/verdict";

const listingAnswer = z.object({
  listing: z.object({ id: z.union([z.string(), z.number().int().transform(String)]) }),
});

/**
 * A listing (as property or room type) is the connection's when `GET /v2/listings/{id}` answers
 * it with the connection's token: Airbnb shows a host's listings to that host's token only, and
 * answers another account's with 403, an unknown one with 404 (sandbox/README.md).
 */
export async function verifyAirbnbMapping(
  ctx: AdapterContext,
  claim: MappingClaim,
  apiFetch: (ctx: AdapterContext, url: string, init: RequestInit) => Promise<Response>,
): Promise<MappingVerdict> {
  if (claim.mappingType === "rate_plan") return notConfirmed("Airbnb has no rate plan ids");
  const url = joinUrl(ctx.baseUrl, `/v2/listings/${encodeURIComponent(claim.externalId)}`);
  let res: Response;
  try {
    res = await apiFetch(ctx, url, { method: "GET" });
  } catch (err) {
    return refusalOf(err, `listing ${claim.externalId}`);
  }
  const parsed = listingAnswer.safeParse(await readJson("airbnb", res));
  if (!parsed.success || parsed.data.listing.id !== claim.externalId) {
    return notConfirmed(`listing ${claim.externalId}: the answer names another listing`);
  }
  return CONFIRMED;
}
