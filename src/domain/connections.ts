/** What inboundBlockReason reads of a connection (store/connections.ts has the row). */
export interface InboundSwitches {
  id: string;
  status: string;
  syncBookings: boolean | number;
  syncDirection: string;
}

/** Why a connection must not import bookings right now, or null if it may. */
export function inboundBlockReason(c: InboundSwitches): string | null {
  if (c.status !== "active") return `connection ${c.id} is ${c.status}`;
  if (!c.syncBookings) return `connection ${c.id} has booking sync turned off`;
  if (c.syncDirection === "outbound_only") return `connection ${c.id} is outbound_only`;
  return null;
}
