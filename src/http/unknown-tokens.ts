/**
 * Keys remembered for a while, at most `maxEntries` of them: past that, the oldest goes first
 * (a Map iterates in insertion order), so no sequence of requests grows it without bound.
 */
export class ExpiringSet {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  has(key: string): boolean {
    const expiry = this.expiries.get(key);
    if (expiry === undefined) return false;
    if (expiry > this.now()) return true;
    this.expiries.delete(key);
    return false;
  }

  add(key: string): void {
    this.expiries.delete(key);
    while (this.expiries.size >= this.maxEntries) {
      const oldest = this.expiries.keys().next().value;
      if (oldest === undefined) break;
      this.expiries.delete(oldest);
    }
    this.expiries.set(key, this.now() + this.ttlMs);
  }

  delete(key: string): void {
    this.expiries.delete(key);
  }

  get size(): number {
    return this.expiries.size;
  }
}

/**
 * SHA-256 hashes (never the tokens) of well-formed API tokens D1 does not know, per isolate:
 * the same made-up or deleted token sent again and again costs one D1 query per 30 s, not one
 * per request. A token that appears in D1 later (seeded, restored) works within those 30 s.
 * Only "unknown" is remembered: a known token, revoked or not, is read from D1 every time, so
 * a revocation holds at once. 5,000 hashes are well under a megabyte.
 */
export const unknownTokens = new ExpiringSet(30_000, 5_000);
