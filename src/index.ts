import { createApp } from "./app";
import { runScheduled } from "./jobs/cron";
import { log } from "./lib/log";
import { handleDeadLetterBatch } from "./queue/dead-letter";
import { handleInboundBatch } from "./queue/inbound";
import type { QueueMessage } from "./queue/messages";
import { handleOutboundBatch } from "./queue/outbound";

export { ChannelGate } from "../durable-objects/channel-gate";
export { DeadLetterVault } from "../durable-objects/dead-letter-vault";
export { TokenBroker } from "../durable-objects/token-broker";

const app = createApp();

const fetch: ExportedHandlerFetchHandler<Env> = (request, env, ctx) => app.fetch(request, env, ctx);

/** One consumer Worker for four queues, dispatched by queue name (as named in wrangler.toml). */
const queue: ExportedHandlerQueueHandler<Env, QueueMessage> = async (batch, env) => {
  const messages = batch as MessageBatch<unknown>;
  switch (batch.queue) {
    case "inbound":
      return handleInboundBatch(messages, env);
    case "outbound":
      return handleOutboundBatch(messages, env);
    case "inbound-dlq":
      return handleDeadLetterBatch(messages, env, "inbound");
    case "outbound-dlq":
      return handleDeadLetterBatch(messages, env, "outbound");
    default:
      // Never ack what we do not understand: retrying keeps it until the config is fixed.
      log("error", "queue.unknown", { queue: batch.queue });
      batch.retryAll({ delaySeconds: 60 });
  }
};

const scheduled: ExportedHandlerScheduledHandler<Env> = async (controller, env) =>
  runScheduled(controller, env);

export default { fetch, queue, scheduled } satisfies ExportedHandler<Env, QueueMessage>;
