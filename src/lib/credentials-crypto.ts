import { base64ToBytes, bytesToBase64 } from "./encoding";

/**
 * Channel credentials (OAuth tokens, API keys, webhook secrets) at rest: AES-GCM-256 through
 * WebCrypto under a keyring from the CREDENTIALS_KEYS secret:
 *
 *   CREDENTIALS_KEYS = "<keyId>:<base64 of 32 bytes>,<keyId>:<base64>,…"
 *
 * The first key encrypts; every key decrypts, so a key rotates by putting a new one first and
 * dropping the old one once nothing is encrypted under it (credentials_key_id says which rows).
 * The ciphertext is bound to its tenant and connection through the AES-GCM additional data, so a
 * ciphertext copied into another row does not decrypt. No error message carries key material or
 * plaintext.
 */

export const CIPHERTEXT_VERSION = "v1";
const IV_BYTES = 12;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export type CredentialsErrorCode =
  "keyring_invalid" | "unknown_key" | "malformed" | "undecryptable";

export class CredentialsError extends Error {
  constructor(
    readonly code: CredentialsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "CredentialsError";
  }
}

export interface CredentialsBinding {
  tenantId: string;
  connectionId: string;
}

export interface Keyring {
  activeKeyId: string;
  keys: Map<string, CryptoKey>;
}

type KeyEnv = Pick<Env, "CREDENTIALS_KEYS">;

// Imported keys per secret value: importKey once per isolate, not per request.
const cache = new Map<string, Promise<Keyring>>();

/** Parse and import the keyring; refuses anything malformed (without echoing the secret). */
export function loadKeyring(env: KeyEnv): Promise<Keyring> {
  const secret = env.CREDENTIALS_KEYS ?? "";
  let keyring = cache.get(secret);
  if (!keyring) {
    keyring = importKeyring(secret);
    // A refused keyring is not cached: a fixed secret is picked up on the next call.
    keyring.catch(() => cache.delete(secret));
    cache.set(secret, keyring);
  }
  return keyring;
}

async function importKeyring(secret: string): Promise<Keyring> {
  const entries = secret
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (entries.length === 0) {
    throw new CredentialsError("keyring_invalid", "CREDENTIALS_KEYS is empty");
  }
  const keys = new Map<string, CryptoKey>();
  let activeKeyId: string | undefined;
  for (const [index, entry] of entries.entries()) {
    const where = `CREDENTIALS_KEYS entry ${index + 1}`;
    const sep = entry.indexOf(":");
    const keyId = sep > 0 ? entry.slice(0, sep) : "";
    if (!KEY_ID.test(keyId)) {
      throw new CredentialsError(
        "keyring_invalid",
        `${where} must be "<keyId>:<base64 key>" with a key id of letters, digits, _ or -`,
      );
    }
    if (keys.has(keyId)) {
      throw new CredentialsError("keyring_invalid", `${where} repeats key id ${keyId}`);
    }
    let raw: Uint8Array;
    try {
      raw = base64ToBytes(entry.slice(sep + 1).trim());
    } catch {
      throw new CredentialsError("keyring_invalid", `${where} (key ${keyId}) is not valid base64`);
    }
    if (raw.length !== KEY_BYTES) {
      throw new CredentialsError(
        "keyring_invalid",
        `${where} (key ${keyId}) must decode to ${KEY_BYTES} bytes, got ${raw.length}`,
      );
    }
    const key = await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, [
      "encrypt",
      "decrypt",
    ]);
    keys.set(keyId, key);
    activeKeyId ??= keyId;
  }
  return { activeKeyId: activeKeyId as string, keys };
}

const aad = (b: CredentialsBinding) => new TextEncoder().encode(`${b.tenantId}:${b.connectionId}`);

/** Encrypt under the active key; the result is what credentials_ciphertext / _key_id store. */
export async function encryptCredentials(
  env: KeyEnv,
  binding: CredentialsBinding,
  credentials: Record<string, string>,
): Promise<{ ciphertext: string; keyId: string }> {
  const { activeKeyId, keys } = await loadKeyring(env);
  const key = keys.get(activeKeyId) as CryptoKey;
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const plaintext = new TextEncoder().encode(JSON.stringify(credentials));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: aad(binding) },
      key,
      plaintext,
    ),
  );
  return {
    ciphertext: `${CIPHERTEXT_VERSION}:${activeKeyId}:${bytesToBase64(iv)}:${bytesToBase64(sealed)}`,
    keyId: activeKeyId,
  };
}

/** The key id a stored ciphertext names (no decryption), or null if it is not one of ours. */
export function ciphertextKeyId(ciphertext: string): string | null {
  const parts = ciphertext.split(":");
  return parts.length === 4 && parts[0] === CIPHERTEXT_VERSION && KEY_ID.test(parts[1] ?? "")
    ? (parts[1] as string)
    : null;
}

/** Decrypt with whichever key the ciphertext names; fails if it was tampered with or moved. */
export async function decryptCredentials(
  env: KeyEnv,
  binding: CredentialsBinding,
  ciphertext: string,
): Promise<Record<string, string>> {
  const parts = ciphertext.split(":");
  const [version, keyId, ivB64, sealedB64] = parts;
  if (parts.length !== 4 || version !== CIPHERTEXT_VERSION || !keyId || !ivB64 || !sealedB64) {
    throw new CredentialsError(
      "malformed",
      `credentials ciphertext is not in the ${CIPHERTEXT_VERSION}:<keyId>:<iv>:<ciphertext> format`,
    );
  }
  const { keys } = await loadKeyring(env);
  const key = keys.get(keyId);
  if (!key) {
    throw new CredentialsError(
      "unknown_key",
      `credentials were encrypted with key id ${KEY_ID.test(keyId) ? keyId : "(invalid)"}, which is not in CREDENTIALS_KEYS`,
    );
  }
  let iv: Uint8Array;
  let sealed: Uint8Array;
  try {
    iv = base64ToBytes(ivB64);
    sealed = base64ToBytes(sealedB64);
  } catch {
    throw new CredentialsError("malformed", "credentials ciphertext is not valid base64");
  }
  if (iv.length !== IV_BYTES) {
    throw new CredentialsError("malformed", `credentials IV must be ${IV_BYTES} bytes`);
  }
  let plaintext: ArrayBuffer;
  try {
    plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv, additionalData: aad(binding) },
      key,
      sealed,
    );
  } catch {
    throw new CredentialsError(
      "undecryptable",
      "credentials could not be decrypted: tampered with, or bound to another tenant or connection",
    );
  }
  return credentialsMap(plaintext);
}

/** The decrypted plaintext as the map of strings it was sealed from. */
function credentialsMap(plaintext: ArrayBuffer): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(plaintext));
  } catch {
    throw new CredentialsError("malformed", "decrypted credentials are not JSON");
  }
  if (
    parsed === null ||
    typeof parsed !== "object" ||
    Array.isArray(parsed) ||
    !Object.values(parsed).every((v) => typeof v === "string")
  ) {
    throw new CredentialsError("malformed", "decrypted credentials are not a map of strings");
  }
  return parsed as Record<string, string>;
}
