import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { parseRetryAfter, platformFetch, redact } from "../../../../src/platforms/kit/http";
import { decimalToMinor, minorToDecimal } from "../../../../src/platforms/kit/money";
import {
  getAccessToken,
  invalidateAccessToken,
  resetTokenCache,
  withAccessToken,
  type TokenSource,
} from "../../../../src/platforms/kit/token-cache";
import { PlatformError } from "../../../../src/platforms/contract";
import { clock, fakeFetch, json } from "../../fake-fetch";

const CREDENTIALS = {
  clientId: "cid",
  clientSecret: "s3cr3t-value",
  refreshToken: "rt-secret-value",
};

function ctxWith(handler: Parameters<typeof fakeFetch>[0], now = clock().now) {
  const fake = fakeFetch(handler);
  return { ctx: { fetch: fake.fetch, now, credentials: CREDENTIALS }, requests: fake.requests };
}

async function failure(p: Promise<unknown>): Promise<PlatformError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlatformError);
  return err as PlatformError;
}

describe("platformFetch classification", () => {
  const url = "http://sandbox.test/airbnb/v2/reservations/HMABCDEFGH";

  it("returns 2xx responses", async () => {
    const { ctx } = ctxWith(() => json({ ok: 1 }));
    const res = await platformFetch(ctx, "airbnb", url);
    expect(await res.json()).toEqual({ ok: 1 });
  });

  it.each([
    [500, "transient"],
    [502, "transient"],
    [503, "transient"],
    [401, "auth"],
    [403, "auth"],
    [400, "permanent"],
    [404, "permanent"],
    [409, "permanent"],
    [422, "permanent"],
  ] as const)("HTTP %i → %s", async (status, kind) => {
    const { ctx } = ctxWith(() => json({ error: "x" }, status));
    const err = await failure(platformFetch(ctx, "airbnb", url));
    expect(err.kind).toBe(kind);
    expect(err.status).toBe(status);
    expect(err.platform).toBe("airbnb");
    expect(err.message).toContain(`GET /airbnb/v2/reservations/HMABCDEFGH → HTTP ${status}`);
  });

  it("429 → rate_limited with Retry-After seconds", async () => {
    const { ctx } = ctxWith(() => json({}, 429, { "retry-after": "7" }));
    const err = await failure(platformFetch(ctx, "airbnb", url));
    expect([err.kind, err.retryAfterSeconds]).toEqual(["rate_limited", 7]);
  });

  it("429 → rate_limited with Retry-After as an HTTP date", async () => {
    const c = clock(Date.parse("2026-03-01T10:00:00Z"));
    const { ctx } = ctxWith(
      () => json({}, 429, { "retry-after": "Sun, 01 Mar 2026 10:00:42 GMT" }),
      c.now,
    );
    const err = await failure(platformFetch(ctx, "airbnb", url));
    expect(err.retryAfterSeconds).toBe(42);
  });

  it("a permanent error carries a short body excerpt, without secrets", async () => {
    const body = `{"error":"bad listing","echo":"s3cr3t-value","access_token":"abc.def","pad":"${"x".repeat(500)}"}`;
    const { ctx } = ctxWith(() => new Response(body, { status: 422 }));
    const err = await failure(
      platformFetch(ctx, "airbnb", url, { headers: { authorization: "Bearer tok-123456" } }),
    );
    expect(err.message).toContain("bad listing");
    expect(err.message).not.toContain("s3cr3t-value");
    expect(err.message).not.toContain("abc.def");
    expect(err.message.length).toBeLessThan(320);
  });

  it("never echoes the bearer token or form secrets", async () => {
    const { ctx } = ctxWith(
      (req) =>
        new Response(`bad: ${req.headers.get("authorization")} ${req.body}`, { status: 400 }),
    );
    const body = new URLSearchParams({
      client_secret: "form-secret-1",
      refresh_token: "form-rt-2",
    });
    const err = await failure(
      platformFetch(ctx, "airbnb", url, {
        method: "POST",
        body,
        headers: { authorization: "Bearer tok-abcdef" },
      }),
    );
    expect(err.message).not.toMatch(/tok-abcdef|form-secret-1|form-rt-2/);
  });

  it("network errors are transient", async () => {
    const { ctx } = ctxWith(() => {
      throw new TypeError("connection refused");
    });
    const err = await failure(platformFetch(ctx, "booking_com", url));
    expect(err.kind).toBe("transient");
    expect(err.message).toContain("network error: connection refused");
  });

  it("an error the fetch already classified (a gate holding the call) passes through as is", async () => {
    const held = new PlatformError("airbnb", "rate_limited", "rate limit reached", undefined, 3);
    const { ctx } = ctxWith(() => {
      throw held;
    });
    expect(await failure(platformFetch(ctx, "airbnb", url))).toBe(held);
  });

  it("a timeout is transient", async () => {
    const { ctx } = ctxWith(() => new Promise<Response>(() => {}));
    const err = await failure(platformFetch(ctx, "airbnb", url, {}, { timeoutMs: 20 }));
    expect(err.kind).toBe("transient");
    expect(err.message).toContain("timed out after 20 ms");
  });
});

describe("parseRetryAfter / redact", () => {
  it("reads seconds and dates, ignores junk, never goes negative", () => {
    const now = Date.parse("2026-03-01T10:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("Sun, 01 Mar 2026 09:00:00 GMT", now)).toBe(0);
  });

  it("redacts secrets and token-shaped fields", () => {
    expect(redact("x top-secret y", ["top-secret"])).toBe("x [redacted] y");
    expect(redact('{"refresh_token":"r-1"}', [])).toBe('{"refresh_token":"[redacted]"}');
    expect(redact("Authorization: Bearer abc.def", [])).toBe("Authorization: Bearer [redacted]");
  });
});

describe("money", () => {
  it("converts decimal strings exactly", () => {
    expect(decimalToMinor("450.00", "EUR")).toBe(45000);
    expect(decimalToMinor("450.10", "EUR")).toBe(45010);
    expect(decimalToMinor("0.29", "EUR")).toBe(29);
    expect(decimalToMinor("1.005", "EUR")).toBe(101);
    expect(decimalToMinor("1500", "JPY")).toBe(1500);
    expect(decimalToMinor("1.234", "KWD")).toBe(1234);
    expect(decimalToMinor("12,00", "EUR")).toBeNull();
    expect(minorToDecimal(12000, "EUR")).toBe("120.00");
    expect(minorToDecimal(5, "EUR")).toBe("0.05");
    expect(minorToDecimal(1500, "JPY")).toBe("1500");
  });

  it("round-trips any integer amount", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e12, max: 1e12 }),
        fc.constantFrom("EUR", "USD", "JPY", "KWD", "CHF"),
        (minor, currency) => {
          expect(decimalToMinor(minorToDecimal(minor, currency), currency)).toBe(minor);
        },
      ),
    );
  });
});

describe("token cache", () => {
  beforeEach(() => resetTokenCache());

  function source(c = clock(), overrides: Partial<TokenSource> = {}) {
    let minted = 0;
    const src: TokenSource = {
      platform: "booking_com",
      baseUrl: "http://sandbox.test/booking_com",
      clientId: "cid",
      now: c.now,
      mint: async () => {
        minted += 1;
        await new Promise((r) => setTimeout(r, 5));
        return { accessToken: `tok-${minted}`, expiresInSeconds: 3600 };
      },
      ...overrides,
    };
    return { src, minted: () => minted };
  }

  it("shares one in-flight mint between concurrent callers", async () => {
    const { src, minted } = source();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => getAccessToken(src)));
    expect(new Set(tokens)).toEqual(new Set(["tok-1"]));
    expect(minted()).toBe(1);
  });

  it("reuses a token until 60 s before expiry, then refreshes", async () => {
    const c = clock();
    const { src, minted } = source(c);
    expect(await getAccessToken(src)).toBe("tok-1");
    c.advance(3600_000 - 60_001);
    expect(await getAccessToken(src)).toBe("tok-1");
    c.advance(2);
    expect(await getAccessToken(src)).toBe("tok-2");
    expect(minted()).toBe(2);
  });

  it("keys tokens by platform, base URL and client id", async () => {
    const c = clock();
    const a = source(c);
    const b = source(c, { clientId: "other" });
    expect(await getAccessToken(a.src)).toBe("tok-1");
    expect(await getAccessToken(b.src)).toBe("tok-1");
    expect(a.minted() + b.minted()).toBe(2);
  });

  it("invalidation only drops the token it names", async () => {
    const { src, minted } = source();
    await getAccessToken(src);
    invalidateAccessToken(src, "some-older-token");
    expect(await getAccessToken(src)).toBe("tok-1");
    invalidateAccessToken(src, "tok-1");
    expect(await getAccessToken(src)).toBe("tok-2");
    expect(minted()).toBe(2);
  });

  it("withAccessToken retries an auth failure once with a fresh token", async () => {
    const { src } = source();
    const seen: string[] = [];
    const result = await withAccessToken(src, async (token) => {
      seen.push(token);
      if (token === "tok-1") throw new PlatformError("booking_com", "auth", "expired");
      return "ok";
    });
    expect([result, seen]).toEqual(["ok", ["tok-1", "tok-2"]]);
  });

  it("withAccessToken does not loop: a second auth failure is thrown", async () => {
    const { src, minted } = source();
    let calls = 0;
    const err = await failure(
      withAccessToken(src, async () => {
        calls += 1;
        throw new PlatformError("booking_com", "auth", "revoked");
      }),
    );
    expect([err.kind, calls, minted()]).toEqual(["auth", 2, 2]);
  });

  it("a 403 (another account's resource) is not retried: a new token would not change it", async () => {
    const { src, minted } = source();
    let calls = 0;
    const err = await failure(
      withAccessToken(src, async () => {
        calls += 1;
        throw new PlatformError("airbnb", "auth", "GET /v2/listings/1 → HTTP 403", 403);
      }),
    );
    expect([err.status, calls, minted()]).toEqual([403, 1, 1]);
  });

  it("other failures are not retried", async () => {
    const { src } = source();
    let calls = 0;
    const err = await failure(
      withAccessToken(src, async () => {
        calls += 1;
        throw new PlatformError("booking_com", "transient", "503");
      }),
    );
    expect([err.kind, calls]).toEqual(["transient", 1]);
  });

  it("refuses to mint beyond the hourly budget", async () => {
    const c = clock();
    const { src } = source(c, { maxMintsPerHour: 3 });
    for (let i = 0; i < 3; i++) {
      const t = await getAccessToken(src);
      invalidateAccessToken(src, t);
      c.advance(60_000);
    }
    const err = await failure(getAccessToken(src));
    expect(err.kind).toBe("rate_limited");
    expect(err.retryAfterSeconds).toBe(3600 - 180);
    c.advance((3600 - 180) * 1000);
    expect(await getAccessToken(src)).toBe("tok-4");
  });
});
