// Old path of kit/http.ts, kept while durable-objects/channel-gate.ts still imports it.
export * from "./kit/http";
