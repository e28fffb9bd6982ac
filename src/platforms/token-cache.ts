// Old path of kit/token-cache.ts, kept while durable-objects/ (token store, broker, keeper) and
// the token tests still import it.
export * from "./kit/token-cache";
