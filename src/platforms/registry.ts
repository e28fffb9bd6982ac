import { airbnb } from "./airbnb";
import { beds24 } from "./beds24";
import { bookingCom } from "./booking-com";
import {
  PlatformError,
  type CapabilityName,
  type ConfigKeys,
  type GateAdapter,
  type ModuleWith,
  type PlatformCredentials,
  type PlatformModule,
} from "./contract";
import { expedia } from "./expedia";
import { fewoDirekt } from "./fewo-direkt";
import { google } from "./google";
import { ical } from "./ical";
import { PLATFORM_IDS, type Platform } from "./ids";

/**
 * Every platform module, in PLATFORM_IDS order. Code outside src/platforms/ asks here — for a
 * module by id, or for the modules with a capability — instead of naming a platform.
 */
export const PLATFORM_MODULES: readonly PlatformModule[] = [
  airbnb,
  bookingCom,
  expedia,
  fewoDirekt,
  google,
  beds24,
  ical,
];

// ids.ts is the list the database schema uses; a module missing, extra or out of order there would
// make enums and tables disagree with the modules, so it fails at load rather than later.
if (PLATFORM_MODULES.map((m) => m.id).join() !== PLATFORM_IDS.join()) {
  throw new Error("src/platforms/registry.ts: the modules do not match PLATFORM_IDS");
}

const BY_ID = new Map<string, PlatformModule>(PLATFORM_MODULES.map((m) => [m.id, m]));

/** The module of a platform (every platform id has one). */
export function moduleOf(platform: Platform): PlatformModule {
  const found = BY_ID.get(platform);
  if (!found) throw new Error(`no module for platform ${platform}`);
  return found;
}

/** The module a name stands for: its id or one of its aliases; undefined for anything else. */
export function findModule(name: string): PlatformModule | undefined {
  return BY_ID.get(name) ?? PLATFORM_MODULES.find((m) => m.aliases.includes(name));
}

function has<K extends CapabilityName>(m: PlatformModule, capability: K): m is ModuleWith<K> {
  return m[capability] !== undefined;
}

/** The modules with a capability, in registry order. */
export function withCapability<K extends CapabilityName>(capability: K): ModuleWith<K>[] {
  return PLATFORM_MODULES.filter((m): m is ModuleWith<K> => has(m, capability));
}

/** The platform's module when it has the capability. */
export function capableModule<K extends CapabilityName>(
  platform: Platform,
  capability: K,
): ModuleWith<K> | undefined {
  const m = moduleOf(platform);
  return has(m, capability) ? m : undefined;
}

// ---------------------------------------------------------------------------------------------
// The adapter view, for code written before modules (the ChannelGate)

function unsupported(m: PlatformModule, what: string): never {
  throw new PlatformError(m.id, "permanent", `${m.displayName} ${what} is not supported yet`);
}

function gateAdapterOf(m: PlatformModule): GateAdapter | undefined {
  if (!m.push) return undefined;
  const verification = m.webhook?.verification;
  return {
    platform: m.id,
    signatureHeader: verification && verification.kind !== "none" ? verification.header : "",
    maxNightsPerCall: m.push.maxNightsPerCall,
    planPush: m.push.planPush,
    parseWebhook: m.webhook?.parse ?? (() => unsupported(m, "webhooks")),
    fetchBookings: m.fetchBookings ?? (async () => unsupported(m, "booking import")),
    ...(m.acknowledge ? { acknowledge: m.acknowledge } : {}),
    ...(m.verifyMapping ? { verifyMapping: m.verifyMapping } : {}),
  };
}

const ADAPTERS = new Map<string, GateAdapter>(
  PLATFORM_MODULES.flatMap((m) => {
    const adapter = gateAdapterOf(m);
    return adapter ? [[m.id, adapter] as const] : [];
  }),
);

/** The platforms the engine talks to (those that push); the others are known names only. */
export function getAdapter(platform: Platform): GateAdapter | undefined {
  return ADAPTERS.get(platform);
}

export function adapterFor(platform: Platform): GateAdapter {
  const adapter = ADAPTERS.get(platform);
  if (!adapter) throw new Error(`no adapter for platform ${platform}`);
  return adapter;
}

/**
 * Platforms whose reservations are pulled (and acknowledged): a webhook is only a hint to pull
 * every pending reservation of the property, so one pull of the connection covers every hint.
 */
export const PULL_PLATFORMS: readonly Platform[] = withCapability("pull").map((m) => m.id);

export function isPullPlatform(platform: Platform): boolean {
  return capableModule(platform, "pull") !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Configuration from the Worker env

/**
 * The Worker env as the registry reads it: any object with the bindings the modules name
 * (`config` of each module; .dev.vars.example lists them). Kept structural so this module does not
 * depend on the generated Env type.
 */
export type PlatformEnv = object;

export interface PlatformConfig {
  baseUrl: string;
  credentials: PlatformCredentials;
  /** Current secret first; the previous one keeps verifying during a rotation. */
  webhookSecrets: string[];
}

/** Every binding name the modules read, for checks against .dev.vars.example and Env. */
export function configKeyNames(): string[] {
  return PLATFORM_MODULES.flatMap((m) =>
    m.config
      ? Object.values(m.config as ConfigKeys).filter((v): v is string => typeof v === "string")
      : [],
  );
}

/** Whether each host account of the platform authorises with credentials of its own. */
export function usesHostAccounts(platform: Platform): boolean {
  return moduleOf(platform).config?.hostAccounts === true;
}

/** A platform's settings from the Worker env; throws naming (never showing) a missing binding. */
export function platformConfig(env: PlatformEnv, platform: Platform): PlatformConfig {
  const keys = moduleOf(platform).config;
  if (!keys) throw new Error(`no configuration for platform ${platform}`);
  const vars = env as Record<string, unknown>;
  const optional = (key: string | undefined): string | undefined => {
    const value = key ? vars[key] : undefined;
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  const required = (key: string): string => {
    const value = optional(key);
    if (value === undefined) throw new Error(`missing configuration ${key}`);
    return value;
  };
  const refreshToken = optional(keys.defaultRefreshToken);
  return {
    baseUrl: required(keys.baseUrl),
    credentials: {
      clientId: keys.clientId ? required(keys.clientId) : "",
      clientSecret: keys.clientSecret ? required(keys.clientSecret) : "",
      ...(refreshToken ? { refreshToken } : {}),
    },
    webhookSecrets: keys.webhookSecret
      ? [required(keys.webhookSecret), optional(keys.previousWebhookSecret)].filter(
          (s): s is string => s !== undefined,
        )
      : [],
  };
}
