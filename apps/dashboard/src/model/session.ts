/**
 * A signed-in session: the token, whose it is, when it expires, and how it was obtained (demo
 * sign-in tokens are renewed by the screen; a pasted JWT is not). Pure: storage and timers are
 * the caller's.
 */
export type SessionSource = 'demo' | 'jwt';

export interface Session {
  token: string;
  userId: string;
  /** epoch ms; null when the token has no exp */
  expiresAt: number | null;
  source: SessionSource;
}

export interface TokenClaims {
  sub: string | null;
  exp: number | null;
  roles: string[];
}

function base64UrlDecode(part: string): string {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Reads (does not verify: the server does) a JWT's claims; null when it is not a JWT. */
export function readClaims(token: string): TokenClaims | null {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const claims = JSON.parse(base64UrlDecode(parts[1])) as Record<string, unknown>;
    const roles = claims['roles'];
    return {
      sub: typeof claims['sub'] === 'string' ? claims['sub'] : null,
      exp: typeof claims['exp'] === 'number' ? claims['exp'] : null,
      roles: Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : typeof roles === 'string' ? roles.split(' ').filter(Boolean) : [],
    };
  } catch {
    return null;
  }
}

export type PastedToken = { ok: true; session: Session } | { ok: false; message: string };

export function sessionFromPastedToken(token: string, now: number): PastedToken {
  const trimmed = token.trim();
  const claims = readClaims(trimmed);
  if (!claims) return { ok: false, message: 'That is not a JWT (three base64url parts)' };
  if (!claims.sub) return { ok: false, message: 'The token has no subject (sub): it names no user' };
  const expiresAt = claims.exp === null ? null : claims.exp * 1000;
  if (expiresAt !== null && expiresAt <= now) return { ok: false, message: 'The token has expired' };
  return { ok: true, session: { token: trimmed, userId: claims.sub, expiresAt, source: 'jwt' } };
}

/**
 * When to renew a demo token: a minute before it expires, or at 80% of a shorter lifetime, and
 * never sooner than a second from now. null: never (no expiry, or not renewable).
 */
export function refreshDelay(session: Session, now: number, issuedAt: number = now): number | null {
  if (session.source !== 'demo' || session.expiresAt === null) return null;
  const lifetime = session.expiresAt - issuedAt;
  const lead = Math.min(60_000, lifetime * 0.2);
  return Math.max(1_000, session.expiresAt - lead - now);
}

/** A stored session as read back from sessionStorage; null when absent, malformed or expired. */
export function parseStoredSession(raw: string | null, now: number): Session | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<Session>;
    if (typeof v.token !== 'string' || typeof v.userId !== 'string') return null;
    if (v.source !== 'demo' && v.source !== 'jwt') return null;
    const expiresAt = typeof v.expiresAt === 'number' ? v.expiresAt : null;
    if (expiresAt !== null && expiresAt <= now) return null;
    return { token: v.token, userId: v.userId, expiresAt, source: v.source };
  } catch {
    return null;
  }
}
