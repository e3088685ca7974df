/** What the client needs to know about a JWT without verifying it: when it expires. */

/** `exp` of a JWT in epoch ms, or null when the token has none or cannot be read. */
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const claims = JSON.parse(atob(base64)) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * When to fetch a fresh token ahead of `expiresAt`: `leadMs` before it, but never more than a
 * fifth of the remaining life (a 2-second token is refreshed after 1.6 s, not at once).
 * Returns the delay from `now` in ms (0 when it is already due).
 */
export function refreshDelay(expiresAt: number, now: number, leadMs: number): number {
  const remaining = expiresAt - now;
  if (remaining <= 0) return 0;
  return Math.max(0, remaining - Math.min(leadMs, remaining * 0.2));
}

/** Whether a token should be replaced before it is offered (expired or about to). */
export function isExpiring(token: string, now: number, marginMs: number): boolean {
  const exp = tokenExpiry(token);
  return exp !== null && exp - now <= marginMs;
}

/** Exponential backoff with full jitter: attempt 0 waits about `baseMs`, capped at `maxMs`. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, jitter: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  const spread = exp * Math.min(Math.max(jitter, 0), 1);
  return Math.round(exp - spread + random() * 2 * spread);
}
