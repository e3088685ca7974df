/** The session lives in sessionStorage: it survives a reload, not the closing of the tab. */
import { parseStoredSession, type Session } from '../model/session.js';

const KEY = 'qx.session';

export function loadSession(now = Date.now()): Session | null {
  try {
    return parseStoredSession(sessionStorage.getItem(KEY), now);
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  try {
    if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
    else sessionStorage.removeItem(KEY);
  } catch {
    /* storage disabled: the session lasts as long as the page */
  }
}
