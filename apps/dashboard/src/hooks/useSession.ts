/**
 * Sign-in state: a demo token from the gateway (renewed before it expires) or a pasted JWT.
 * `renew()` gets a fresh demo token on demand (after the server said "Token expired"); `authed`
 * runs a REST call with the current token and, when a demo token is refused (a restarted demo
 * gateway has a new secret), renews it and tries once more.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { fetchDevToken } from '../api/endpoints.js';
import { ApiError } from '../api/http.js';
import { explainError } from '../model/messages.js';
import { refreshDelay, sessionFromPastedToken, type Session } from '../model/session.js';
import { PREF, writePref } from './prefs.js';
import { loadSession, saveSession } from './session-storage.js';

export interface SessionApi {
  session: Session | null;
  signInDemo: (userId: string) => Promise<void>;
  signInWithToken: (token: string) => void;
  /** signs out; with a reason (the server refused the credentials) the sign-in card shows it */
  signOut: (reason?: string) => void;
  /** why the last session ended, when the server ended it */
  signedOutReason: string | null;
  /** a fresh demo token, or null when this session cannot be renewed */
  renew: () => Promise<Session | null>;
  authed: Authed;
}

export type Authed = <T>(call: (token: string) => Promise<T>) => Promise<T>;

async function demoSession(userId: string): Promise<Session> {
  const t = await fetchDevToken(userId);
  return { token: t.token, userId: t.userId, expiresAt: Date.parse(t.expiresAt), source: 'demo' };
}

export function useSession(): SessionApi {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [signedOutReason, setSignedOutReason] = useState<string | null>(null);
  const current = useRef(session);

  const update = useCallback((next: Session | null) => {
    current.current = next;
    saveSession(next);
    setSession(next);
    if (next) {
      setSignedOutReason(null);
      // the sign-in card offers this browser's last user, never someone else's
      writePref(PREF.lastUserId, next.userId);
    }
  }, []);

  const signInDemo = useCallback(async (userId: string) => update(await demoSession(userId)), [update]);

  const signInWithToken = useCallback(
    (token: string) => {
      const r = sessionFromPastedToken(token, Date.now());
      if (!r.ok) throw new Error(r.message);
      update(r.session);
    },
    [update],
  );

  const signOut = useCallback(
    (reason?: string) => {
      update(null);
      setSignedOutReason(reason ?? null);
    },
    [update],
  );

  const inflight = useRef<Promise<Session | null> | null>(null);
  const renew = useCallback(() => {
    const s = current.current;
    if (!s || s.source !== 'demo') return Promise.resolve(null);
    // several refusals at once share one renewal
    inflight.current ??= demoSession(s.userId)
      .then((next) => {
        if (current.current?.userId !== s.userId) return null; // signed out meanwhile
        update(next);
        return next;
      })
      .catch(() => null)
      .finally(() => {
        inflight.current = null;
      });
    return inflight.current;
  }, [update]);

  const authed = useCallback<Authed>(
    async (call) => {
      const token = current.current?.token ?? '';
      try {
        return await call(token);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) throw err;
        const next = await renew();
        if (!next) {
          // refused credentials that cannot be renewed (a pasted JWT): back to sign-in, saying why
          if (current.current) signOut(explainError(err));
          throw err;
        }
        return call(next.token);
      }
    },
    [renew, signOut],
  );

  // renew demo tokens before they expire
  useEffect(() => {
    if (!session) return;
    const delay = refreshDelay(session, Date.now());
    if (delay === null) return;
    const timer = setTimeout(() => void renew(), delay);
    return () => clearTimeout(timer);
  }, [session, renew]);

  return { session, signInDemo, signInWithToken, signOut, signedOutReason, renew, authed };
}
