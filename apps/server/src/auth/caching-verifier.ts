/**
 * Remembers tokens that verified, so a client calling the REST API with the same bearer token
 * does not pay for a signature check (and an asynchronous crypto round trip) every time. A hit
 * still honours `exp`; an entry lives at most `ttlMs` (so a key withdrawn from the JWKS stops
 * working soon) and the cache holds at most `maxEntries` (oldest dropped first).
 */
import type { TokenVerifier, VerifiedToken, VerifyResult } from './token-verifier.js';

export class CachingVerifier implements TokenVerifier {
  private readonly entries = new Map<string, { token: VerifiedToken; until: number }>();

  constructor(
    private readonly inner: TokenVerifier,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  async verify(token: string): Promise<VerifyResult> {
    const now = this.now();
    const hit = this.entries.get(token);
    if (hit) {
      if (hit.token.expiresAt !== null && hit.token.expiresAt <= now) {
        this.entries.delete(token);
        return { ok: false, code: 'TOKEN_EXPIRED', detail: 'exp' };
      }
      if (hit.until > now) return { ok: true, token: hit.token };
      this.entries.delete(token);
    }
    const result = await this.inner.verify(token);
    if (result.ok) {
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(token, { token: result.token, until: now + this.ttlMs });
    }
    return result;
  }
}
