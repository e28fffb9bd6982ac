// Old path of kit/runs.ts, kept while booking-com/ota-xml.ts still imports it.
export * from "./kit/runs";
