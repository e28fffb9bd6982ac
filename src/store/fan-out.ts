import { and, eq, isNull } from "drizzle-orm";
import { orm } from "./db";
import { channelConnections } from "./schema/schema";

/**
 * The connections a property's changed nights fan out to (the outbound consumer): every live one,
 * inactive ones too, since their gates keep the marks without sending.
 */

export type FanOutConnection = Pick<typeof channelConnections.$inferSelect, "id" | "platform">;

export function liveConnectionsToFanOut(
  db: D1Database,
  tenantId: string,
  propertyId: string,
): Promise<FanOutConnection[]> {
  const c = channelConnections;
  return orm(db)
    .select({ id: c.id, platform: c.platform })
    .from(c)
    .where(and(eq(c.tenantId, tenantId), eq(c.propertyId, propertyId), isNull(c.deletedAt)));
}
