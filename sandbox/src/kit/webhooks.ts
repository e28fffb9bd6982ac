import { platformState } from "../platform-state";
import { signatureHeader } from "./crypto";
import type { WebhookSigning } from "./simulator";
import type { HeldDelivery, PlatformName } from "./store/types";

/** One webhook POST, with the exact signed bytes so a test can replay it itself. */
export interface Delivery {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
  status?: number;
  error?: string;
  /** Held back by reorder_webhooks; sent (in reverse order) by the flush endpoint. */
  held?: boolean;
}

export type DeliveryMode = "sync" | "none";

export function parseDeliveryMode(raw: string | undefined): DeliveryMode | null {
  if (raw === undefined || raw === "sync") return "sync";
  return raw === "none" ? "none" : null;
}

export function webhookUrl(env: Env, platform: PlatformName): string {
  return `${env.ENGINE_URL.replace(/\/+$/, "")}/api/v1/webhooks/${platform}`;
}

/** Sign at send time, as a real sender does on every attempt. */
async function sign(env: Env, signing: WebhookSigning, held: HeldDelivery): Promise<Delivery> {
  const { header, secret } = signing;
  const t = Math.floor(Date.now() / 1000);
  return {
    url: held.url,
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      [header]: await signatureHeader(secret(env), t, held.body),
    },
    body: held.body,
  };
}

async function send(d: Delivery): Promise<Delivery> {
  try {
    const res = await fetch(d.url, {
      method: "POST",
      headers: d.headers,
      body: d.body,
      signal: AbortSignal.timeout(10_000),
    });
    // Drain the body so the connection is released; its content does not matter to the sender.
    await res.arrayBuffer();
    return { ...d, status: res.status };
  } catch (err) {
    return { ...d, error: err instanceof Error ? err.message : String(err) };
  }
}

async function sendAll(deliveries: Delivery[]): Promise<Delivery[]> {
  const out: Delivery[] = [];
  // One after another: the order (and any duplicate) reaches the engine as listed.
  for (const d of deliveries) out.push(await send(d));
  return out;
}

/** Deliver one event according to the platform's webhook faults and the requested mode. */
export async function emit(
  env: Env,
  platform: PlatformName,
  signing: WebhookSigning,
  payload: Record<string, unknown>,
  mode: DeliveryMode,
): Promise<Delivery[]> {
  const stub = platformState(env, platform);
  const faults = await stub.getFaults();
  const signed = await sign(env, signing, {
    url: webhookUrl(env, platform),
    body: JSON.stringify(payload),
  });
  const deliveries = faults.duplicate_webhooks ? [signed, signed] : [signed];
  if (faults.reorder_webhooks) {
    await stub.hold(deliveries.map(({ url, body }) => ({ url, body })));
    return deliveries.map((d) => ({ ...d, held: true }));
  }
  return mode === "sync" ? sendAll(deliveries) : deliveries;
}

/** Release held deliveries, newest first. */
export async function flush(
  env: Env,
  platform: PlatformName,
  signing: WebhookSigning,
  mode: DeliveryMode,
): Promise<Delivery[]> {
  const held = await platformState(env, platform).takeHeld();
  const signed = await Promise.all(held.map((h) => sign(env, signing, h)));
  return mode === "sync" ? sendAll(signed) : signed;
}
