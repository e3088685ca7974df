/**
 * Verifies JWTs with jose: HS256 with a shared secret, or asymmetric keys from a JWKS URL. The
 * algorithm list is fixed per mode, so `alg: none` and HS/RS confusion are refused by jose itself.
 */
import { webcrypto } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export interface VerifiedToken {
  userId: string;
  roles: string[];
  /** epoch ms, or null when the token has no `exp` */
  expiresAt: number | null;
}

export type VerifyFailure = 'INVALID_TOKEN' | 'TOKEN_EXPIRED';
export type VerifyResult = { ok: true; token: VerifiedToken } | { ok: false; code: VerifyFailure; detail: string };

export interface TokenVerifier {
  verify(token: string): Promise<VerifyResult>;
}

interface ClaimOptions {
  issuer?: string | undefined;
  audience?: string | undefined;
  /** accept tokens without `exp` (JWT_ALLOW_NO_EXP); by default a token must expire */
  allowNoExp?: boolean | undefined;
}

const HMAC_ALGORITHMS = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' } as const;
type HmacAlgorithm = keyof typeof HMAC_ALGORITHMS;

export class SecretTokenVerifier implements TokenVerifier {
  private readonly key: Uint8Array;
  /**
   * The secret imported once per HMAC algorithm: handed the raw bytes, jose imports a key on every
   * verification, which costs more than the signature check (a resume storm verifies thousands).
   */
  private readonly imported = new Map<HmacAlgorithm, Promise<webcrypto.CryptoKey>>();
  private readonly keyFor: JWTVerifyGetKey = (header) => {
    const alg = header.alg as HmacAlgorithm;
    let key = this.imported.get(alg);
    if (!key) {
      key = webcrypto.subtle.importKey('raw', this.key, { name: 'HMAC', hash: HMAC_ALGORITHMS[alg] }, false, ['verify']);
      this.imported.set(alg, key);
    }
    return key;
  };

  constructor(
    secret: string,
    private readonly claims: ClaimOptions = {},
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  verify(token: string): Promise<VerifyResult> {
    // HMAC only (jose checks the header's alg against this list before asking for the key): an
    // asymmetric algorithm here would be the classic confusion attack
    return verifyWith(token, this.keyFor, Object.keys(HMAC_ALGORITHMS), this.claims);
  }

  /** Issues a token (demo mode's dev sign-in and tests). */
  sign(userId: string, opts: { roles?: string[]; ttlSeconds: number; nowSeconds?: number }): Promise<string> {
    const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
    let jwt = new SignJWT({ roles: opts.roles ?? [] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt(now)
      .setExpirationTime(now + opts.ttlSeconds);
    if (this.claims.issuer) jwt = jwt.setIssuer(this.claims.issuer);
    if (this.claims.audience) jwt = jwt.setAudience(this.claims.audience);
    return jwt.sign(this.key);
  }
}

export class JwksTokenVerifier implements TokenVerifier {
  private readonly keys: JWTVerifyGetKey;
  constructor(
    url: string,
    private readonly algorithms: string[],
    private readonly claims: ClaimOptions = {},
  ) {
    this.keys = createRemoteJWKSet(new URL(url), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  }

  verify(token: string): Promise<VerifyResult> {
    return verifyWith(token, this.keys, this.algorithms, this.claims);
  }
}

async function verifyWith(
  token: string,
  key: Uint8Array | JWTVerifyGetKey,
  algorithms: string[],
  claims: ClaimOptions,
): Promise<VerifyResult> {
  let payload: JWTPayload;
  try {
    const options = {
      algorithms,
      ...(claims.issuer ? { issuer: claims.issuer } : {}),
      ...(claims.audience ? { audience: claims.audience } : {}),
    };
    const result = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
    payload = result.payload;
  } catch (err) {
    if (err instanceof errors.JWTExpired) return { ok: false, code: 'TOKEN_EXPIRED', detail: 'exp' };
    const detail = err instanceof errors.JOSEError ? err.code : 'unverifiable';
    return { ok: false, code: 'INVALID_TOKEN', detail };
  }
  // the subject is `sub`; tokens from issuers that carry it as a `userId` claim are read too
  const subject = typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : payload['userId'];
  if (typeof subject !== 'string' || subject.length === 0) {
    return { ok: false, code: 'INVALID_TOKEN', detail: 'missing sub' };
  }
  // a token that never expires cannot be withdrawn: refused unless the operator allows it
  if (typeof payload.exp !== 'number' && !claims.allowNoExp) return { ok: false, code: 'INVALID_TOKEN', detail: 'missing exp' };
  return {
    ok: true,
    token: { userId: subject, roles: parseRoles(payload['roles']), expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : null },
  };
}

function parseRoles(raw: unknown): string[] {
  if (typeof raw === 'string') return raw.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(raw)) return raw.filter((r): r is string => typeof r === 'string');
  return [];
}
