import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  ciphertextKeyId,
  CredentialsError,
  decryptCredentials,
  encryptCredentials,
} from "../../../src/lib/credentials-crypto";
import { base64ToBytes, bytesToBase64 } from "../../../src/lib/encoding";

const randomKey = () => bytesToBase64(crypto.getRandomValues(new Uint8Array(32)));
const K1 = randomKey();
const K2 = randomKey();
const binding = { tenantId: "ten_a", connectionId: "con_a" };
const secret = { api_key: "sk_live_super_secret_value", refresh_token: "rt-0123456789" };

async function failure(p: Promise<unknown>): Promise<CredentialsError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CredentialsError);
  return err as CredentialsError;
}

describe("credentials crypto", () => {
  it("round-trips under the configured keyring (first key encrypts)", async () => {
    const { ciphertext, keyId } = await encryptCredentials(env, binding, secret);
    expect(keyId).toBe("k2");
    expect(ciphertext).toMatch(/^v1:k2:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(ciphertextKeyId(ciphertext)).toBe("k2");
    expect(ciphertext).not.toContain("super_secret");
    expect(base64ToBytes(ciphertext.split(":")[2] as string)).toHaveLength(12);
    expect(await decryptCredentials(env, binding, ciphertext)).toEqual(secret);
  });

  it("uses a fresh IV every time", async () => {
    const a = await encryptCredentials(env, binding, secret);
    const b = await encryptCredentials(env, binding, secret);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it("rotates: k1 ciphertexts still decrypt once k2 is active; new ones use k2", async () => {
    const before = { CREDENTIALS_KEYS: `k1:${K1}` };
    const after = { CREDENTIALS_KEYS: `k2:${K2}, k1:${K1}` };
    const old = await encryptCredentials(before, binding, secret);
    expect(old.keyId).toBe("k1");
    expect(await decryptCredentials(after, binding, old.ciphertext)).toEqual(secret);
    const fresh = await encryptCredentials(after, binding, secret);
    expect(fresh.keyId).toBe("k2");
    expect(await decryptCredentials(after, binding, fresh.ciphertext)).toEqual(secret);
    // Once k1 is retired, its ciphertexts name an unknown key (the id, never the key).
    const retired = await failure(
      decryptCredentials({ CREDENTIALS_KEYS: `k2:${K2}` }, binding, old.ciphertext),
    );
    expect(retired.code).toBe("unknown_key");
    expect(retired.message).toContain("k1");
    expect(retired.message).not.toContain(K1);
  });

  it("binds the ciphertext to its tenant and connection (AAD)", async () => {
    const { ciphertext } = await encryptCredentials(env, binding, secret);
    for (const other of [
      { tenantId: "ten_a", connectionId: "con_b" },
      { tenantId: "ten_b", connectionId: "con_a" },
    ]) {
      const err = await failure(decryptCredentials(env, other, ciphertext));
      expect(err.code).toBe("undecryptable");
      expect(err.message).not.toContain("super_secret");
    }
  });

  it("detects tampering", async () => {
    const { ciphertext } = await encryptCredentials(env, binding, secret);
    const [v, id, iv, ct] = ciphertext.split(":") as [string, string, string, string];
    const bytes = base64ToBytes(ct);
    bytes[0] = (bytes[0] as number) ^ 0x01;
    const flipped = `${v}:${id}:${iv}:${bytesToBase64(bytes)}`;
    expect((await failure(decryptCredentials(env, binding, flipped))).code).toBe("undecryptable");
    // The same ciphertext relabelled as the other key does not decrypt either.
    const relabelled = `${v}:k1:${iv}:${ct}`;
    expect((await failure(decryptCredentials(env, binding, relabelled))).code).toBe(
      "undecryptable",
    );
    expect((await failure(decryptCredentials(env, binding, "v1:k2:nope"))).code).toBe("malformed");
    expect((await failure(decryptCredentials(env, binding, "v0:k2:aa:bb"))).code).toBe("malformed");
    expect((await failure(decryptCredentials(env, binding, `v1:zz:${iv}:${ct}`))).code).toBe(
      "unknown_key",
    );
  });

  it("refuses a malformed keyring without echoing key material", async () => {
    const short = bytesToBase64(new Uint8Array(16).fill(7));
    const cases = [
      "",
      " , ",
      K1,
      `:${K1}`,
      `k1:${short}`,
      `k1:not*base64!`,
      `k1:${K1},k1:${K2}`,
      `bad id:${K1}`,
      `k2:${K2},k1`,
    ];
    for (const CREDENTIALS_KEYS of cases) {
      const err = await failure(encryptCredentials({ CREDENTIALS_KEYS }, binding, secret));
      expect(err.code).toBe("keyring_invalid");
      expect(err.message).not.toContain(K1);
      expect(err.message).not.toContain(K2);
      expect(err.message).not.toContain(short);
    }
  });
});
