// Old path of kit/money.ts, kept while booking-com/ota-xml.ts still imports it.
export * from "./kit/money";
