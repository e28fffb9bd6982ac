import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { engineConfig } from "../../src/config";
import { SCHEDULES } from "../../src/jobs/cron";
import { INVOCATION_D1_BUDGET } from "../../src/queue/inbound";
import { CALLS_PER_BOOKING } from "../../src/queue/inbound/imports";

const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");

/** The consumer blocks of wrangler.toml, as key → value maps. */
function consumers(): Array<Record<string, string>> {
  return toml
    .split("[[queues.consumers]]")
    .slice(1)
    .map((block) => {
      const out: Record<string, string> = {};
      for (const line of block.split("\n")) {
        const m = /^(\w+)\s*=\s*"?([^"\n]*)"?\s*$/.exec(line.trim());
        if (m) out[m[1]!] = m[2]!;
        if (line.trim().startsWith("[")) break;
      }
      return out;
    });
}

describe("wrangler.toml", () => {
  it("writes out every consumer option, because local defaults differ from production", () => {
    const list = consumers();
    expect(list.map((c) => c.queue)).toEqual([
      "inbound",
      "outbound",
      "inbound-dlq",
      "outbound-dlq",
    ]);
    for (const c of list) {
      for (const key of ["max_batch_size", "max_batch_timeout", "max_retries", "retry_delay"]) {
        expect(c[key], `${c.queue}.${key}`).toBeDefined();
      }
    }
    expect(
      list.filter((c) => c.dead_letter_queue).map((c) => [c.queue, c.dead_letter_queue]),
    ).toEqual([
      ["inbound", "inbound-dlq"],
      ["outbound", "outbound-dlq"],
    ]);
  });

  it("sizes inbound batches so that every message's D1 share covers a full webhook import", () => {
    const inbound = consumers().find((c) => c.queue === "inbound")!;
    const share = Math.floor(INVOCATION_D1_BUDGET / Number(inbound.max_batch_size));
    // A webhook's own bookkeeping (claim, sync log, relay, finish) plus one booking's worst case.
    expect(share).toBeGreaterThanOrEqual(20 + CALLS_PER_BOOKING);
    expect(INVOCATION_D1_BUDGET).toBeLessThanOrEqual(1000);
  });

  it("retries as many times as the engine's retry schedule expects", () => {
    const inbound = consumers().find((c) => c.queue === "inbound")!;
    expect(Number(inbound.max_retries)).toBe(engineConfig({}).maxRetries);
    // The MAX_RETRIES var (what the consumer reads at run time) says the same as both queues.
    const maxRetriesVar = /^MAX_RETRIES\s*=\s*"(\d+)"/m.exec(toml)?.[1];
    expect(maxRetriesVar).toBeDefined();
    expect(engineConfig({ MAX_RETRIES: maxRetriesVar }).maxRetries).toBe(
      Number(inbound.max_retries),
    );
    const outbound = consumers().find((c) => c.queue === "outbound")!;
    expect(outbound.max_retries).toBe(inbound.max_retries);
  });

  it("has a job for every cron trigger and a trigger for every schedule", () => {
    const crons = /crons\s*=\s*\[([^\]]*)\]/
      .exec(toml)![1]!
      .match(/"([^"]+)"/g)!
      .map((s) => s.slice(1, -1));
    expect(crons.sort()).toEqual(Object.keys(SCHEDULES).sort());
  });

  it("declares the ChannelGate as a SQLite-backed Durable Object", () => {
    expect(toml).toMatch(/new_sqlite_classes\s*=\s*\["ChannelGate"\]/);
  });
});
