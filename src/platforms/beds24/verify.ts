import { z } from "zod";
import { joinUrl, readJson } from "../kit/http";
import {
  PlatformError,
  type AdapterContext,
  type MappingClaim,
  type MappingVerdict,
} from "../contract";
import { CONFIRMED, notConfirmed } from "../kit/verdict";

const propertiesAnswer = z.object({
  data: z.array(
    z.looseObject({
      id: z.union([z.number().int(), z.string()]).transform(String),
      roomTypes: z
        .array(z.looseObject({ id: z.union([z.number().int(), z.string()]).transform(String) }))
        .optional(),
    }),
  ),
});

/**
 * `GET /properties?id=…&includeAllRooms=true` lists only the properties of the token's account
 * (another account's or an unknown id simply does not appear), so a property, room or price slot
 * is the connection's when its property comes back and, for a room, lists it.
 */
export async function verifyBeds24Mapping(
  ctx: AdapterContext,
  claim: MappingClaim,
  apiFetch: (ctx: AdapterContext, url: string, init: RequestInit) => Promise<Response>,
): Promise<MappingVerdict> {
  const propId = claim.mappingType === "property" ? claim.externalId : claim.externalPropertyId;
  if (claim.mappingType === "property" && propId !== claim.externalPropertyId) {
    return notConfirmed(
      `property ${propId} is not the connection's property ${claim.externalPropertyId}`,
    );
  }
  const query = `?id=${encodeURIComponent(propId)}&includeAllRooms=true`;
  const res = await apiFetch(ctx, joinUrl(ctx.baseUrl, `/properties${query}`), { method: "GET" });
  const parsed = propertiesAnswer.safeParse(await readJson("beds24", res));
  if (!parsed.success)
    throw new PlatformError("beds24", "permanent", "malformed properties answer");
  const property = parsed.data.data.find((p) => p.id === propId);
  if (!property) return notConfirmed(`property ${propId} is not in this account`);
  if (claim.mappingType !== "room_type") return CONFIRMED;
  return (property.roomTypes ?? []).some((r) => r.id === claim.externalId)
    ? CONFIRMED
    : notConfirmed(`room ${claim.externalId} is not a room of property ${propId}`);
}
