import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  base64ToBytes,
  base64urlToBytes,
  bytesToBase64,
  bytesToBase64url,
  bytesToHex,
  hexToBytes,
} from "../../../src/lib/encoding";

const bytes = fc.uint8Array({ maxLength: 300 });

describe("encoding", () => {
  it.each([
    ["base64", bytesToBase64, base64ToBytes],
    ["base64url", bytesToBase64url, base64urlToBytes],
    ["hex", bytesToHex, hexToBytes],
  ] as const)("%s decodes what it encodes", (_name, encode, decode) => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(decode(encode(b))).toEqual(b);
      }),
    );
  });

  it("writes what Node's Buffer writes, for every encoding", () => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(bytesToBase64(b)).toBe(Buffer.from(b).toString("base64"));
        expect(bytesToBase64url(b)).toBe(Buffer.from(b).toString("base64url"));
        expect(bytesToHex(b)).toBe(Buffer.from(b).toString("hex"));
      }),
    );
  });

  it("encodes a body larger than one chunk of String.fromCharCode arguments", () => {
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    expect(base64ToBytes(bytesToBase64(big))).toEqual(big);
  });

  it.each(["zz", "abc", "0x12", " 12"])("refuses %j as hex", (text) => {
    expect(() => hexToBytes(text)).toThrow();
  });

  it.each(["a", "ab$c", "=abc"])("refuses %j as base64", (text) => {
    expect(() => base64ToBytes(text)).toThrow();
    expect(() => base64urlToBytes(text)).toThrow();
  });
});
