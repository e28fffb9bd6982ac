// Old path of contract.ts, kept while code outside src/platforms/ (durable-objects/, src/queue/,
// src/services/, src/domain/booking-import.ts) and booking-com/ota-xml.ts still import it.
export * from "./contract";
