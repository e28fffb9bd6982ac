import type { Platform } from "../db/channels.schema";
import { airbnbAdapter } from "./airbnb/adapter";
import { beds24Adapter } from "./beds24/adapter";
import { bookingComAdapter } from "./booking-com/adapter";
import type { PlatformAdapter, PlatformCredentials } from "./types";

/** The platforms the engine has adapters for; the others are known names without an adapter yet. */
const ADAPTERS: Partial<Record<Platform, PlatformAdapter>> = {
  airbnb: airbnbAdapter,
  booking_com: bookingComAdapter,
  beds24: beds24Adapter,
};

export function getAdapter(platform: Platform): PlatformAdapter | undefined {
  return ADAPTERS[platform];
}

export function adapterFor(platform: Platform): PlatformAdapter {
  const adapter = ADAPTERS[platform];
  if (!adapter) throw new Error(`no adapter for platform ${platform}`);
  return adapter;
}

/**
 * Just the bindings the adapters read, so this module does not depend on generated Env types.
 * Any Worker env with these (and more) fields fits.
 */
export interface PlatformEnv {
  AIRBNB_API_BASE?: string;
  AIRBNB_CLIENT_ID?: string;
  AIRBNB_CLIENT_SECRET?: string;
  AIRBNB_REFRESH_TOKEN?: string;
  AIRBNB_WEBHOOK_SECRET?: string;
  AIRBNB_WEBHOOK_SECRET_PREVIOUS?: string;
  BOOKING_COM_API_BASE?: string;
  BOOKING_COM_CLIENT_ID?: string;
  BOOKING_COM_CLIENT_SECRET?: string;
  BOOKING_COM_WEBHOOK_SECRET?: string;
  BOOKING_COM_WEBHOOK_SECRET_PREVIOUS?: string;
  BEDS24_API_BASE?: string;
  BEDS24_REFRESH_TOKEN?: string;
}

export interface PlatformConfig {
  baseUrl: string;
  credentials: PlatformCredentials;
  /** Current secret first; the previous one keeps verifying during a rotation. */
  webhookSecrets: string[];
}

type EnvKey = keyof PlatformEnv;

interface ConfigKeys {
  baseUrl: EnvKey;
  /** App credentials; Beds24 has none (each account authorises with its own refresh token). */
  clientId?: EnvKey;
  clientSecret?: EnvKey;
  /**
   * The Worker's app-level host refresh token: a fallback for connections without credentials of
   * their own, used only for the tenant APP_CREDENTIALS_TENANT names (connection-config.ts).
   */
  defaultRefreshToken?: EnvKey;
  /**
   * Each host account authorises with its own credentials (Airbnb, Beds24): sharing one account's
   * credentials across tenants would let one tenant write another's listings. Platforms without it
   * (Booking.com) serve every property that authorised the one provider account.
   */
  hostAccounts?: true;
  /** Absent for platforms without a webhook endpoint. */
  webhookSecret?: EnvKey;
  previousWebhookSecret?: EnvKey;
}

const CONFIG_KEYS: Partial<Record<Platform, ConfigKeys>> = {
  airbnb: {
    baseUrl: "AIRBNB_API_BASE",
    clientId: "AIRBNB_CLIENT_ID",
    clientSecret: "AIRBNB_CLIENT_SECRET",
    defaultRefreshToken: "AIRBNB_REFRESH_TOKEN",
    hostAccounts: true,
    webhookSecret: "AIRBNB_WEBHOOK_SECRET",
    previousWebhookSecret: "AIRBNB_WEBHOOK_SECRET_PREVIOUS",
  },
  booking_com: {
    baseUrl: "BOOKING_COM_API_BASE",
    clientId: "BOOKING_COM_CLIENT_ID",
    clientSecret: "BOOKING_COM_CLIENT_SECRET",
    webhookSecret: "BOOKING_COM_WEBHOOK_SECRET",
    previousWebhookSecret: "BOOKING_COM_WEBHOOK_SECRET_PREVIOUS",
  },
  beds24: {
    baseUrl: "BEDS24_API_BASE",
    defaultRefreshToken: "BEDS24_REFRESH_TOKEN",
    hostAccounts: true,
  },
};

/**
 * Platforms whose reservations are pulled (and acknowledged): a webhook is only a hint to pull
 * every pending reservation of the property, so one pull of the connection covers every hint.
 */
export const PULL_PLATFORMS: readonly Platform[] = ["booking_com"];

export function isPullPlatform(platform: Platform): boolean {
  return PULL_PLATFORMS.includes(platform);
}

/** Whether each host account of the platform authorises with credentials of its own. */
export function usesHostAccounts(platform: Platform): boolean {
  return CONFIG_KEYS[platform]?.hostAccounts === true;
}

/** A platform's settings from the Worker env; throws naming (never showing) a missing binding. */
export function platformConfig(env: PlatformEnv, platform: Platform): PlatformConfig {
  const keys = CONFIG_KEYS[platform];
  if (!keys) throw new Error(`no configuration for platform ${platform}`);
  const optional = (key: EnvKey | undefined): string | undefined => {
    const value = key ? env[key] : undefined;
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  const required = (key: EnvKey): string => {
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
