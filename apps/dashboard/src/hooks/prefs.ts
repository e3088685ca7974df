/**
 * What this browser remembers between sessions (localStorage): the last user id signed in, the
 * orders blotter's "open only", the confirmation size, each user's acknowledged alerts, and each
 * user's cancel-on-disconnect switch.
 * Storage may be disabled: then every setting lasts as long as the page.
 */
import { useCallback, useState } from 'react';

export const PREF = {
  lastUserId: 'qx.lastUserId',
  openOnly: 'qx.ordersOpenOnly',
  confirmAbove: 'qx.confirmAboveLots',
  acked: (userId: string) => `qx.ackedAlerts.${userId}`,
  cancelOnDisconnect: (userId: string) => `qx.cancelOnDisconnect.${userId}`,
} as const;

export function readPref(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function writePref(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    /* storage disabled */
  }
}

/** A remembered on/off setting. */
export function useFlagPref(key: string, fallback: boolean): [boolean, (on: boolean) => void] {
  const [on, setOn] = useState(() => {
    const v = readPref(key);
    return v === null ? fallback : v === '1';
  });
  const set = useCallback(
    (next: boolean) => {
      setOn(next);
      writePref(key, next ? '1' : '0');
    },
    [key],
  );
  return [on, set];
}
