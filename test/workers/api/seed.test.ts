import { describe, expect, it } from "vitest";
import { api } from "../../support/api";
import { seed } from "../../support/seed";

describe("seed builders", () => {
  it("make a tenant whose admin and read-only tokens the API accepts", async () => {
    const t = await seed.tenant({ readOnly: true });
    expect(t.tenantId).toMatch(/^ten_/);
    const tokens = await api(t.readOnly).GET("/api/v1/tokens");
    expect(tokens.response.status).toBe(200);
    expect(tokens.data!.data.map((k) => k.role).sort()).toEqual(["admin", "read_only"]);
  });

  it("make a property with room types, rate plans, and mapped connections on each platform", async () => {
    const p = await seed.property({ roomTypes: 2, units: 3, platforms: ["airbnb", "booking_com"] });
    expect(p.roomTypeIds).toHaveLength(2);
    expect(p.ratePlanIds).toHaveLength(2);
    const client = api(p.tenant.admin);
    const rooms = await client.GET("/api/v1/properties/{id}/room-types", {
      params: { path: { id: p.propertyId } },
    });
    expect(rooms.data!.data.map((r) => r.units)).toEqual([3, 3]);
    for (const platform of ["airbnb", "booking_com"] as const) {
      const c = p.connections[platform]!;
      const mapping = await client.GET("/api/v1/channel-mappings/{id}", {
        params: { path: { id: c.mappingId! } },
      });
      expect(mapping.data).toMatchObject({
        connection_id: c.connectionId,
        platform,
        internal_id: p.roomTypeIds[0],
        status: "confirmed",
      });
    }
  });
});
