export * from "./tenancy.schema";
export * from "./channels.schema";
export * from "./bookings.schema";
export * from "./events.schema";
