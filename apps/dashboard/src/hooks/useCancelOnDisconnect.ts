/**
 * The screen's cancel-on-disconnect switch (off by default; remembered per user in this browser).
 * On, the orders placed from this screen are cancelled by the server when its connection ends and
 * does not come back (the page closed, the network gone, the browser killed): scope `connection`,
 * so orders from the trader's other screens and programs are not touched. The SDK asks for it
 * again after every new session; this hook asks once per client and says what the server
 * confirmed: `on` only once it has.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { QuantEnergxClient } from '@qx/client';
import { explainError } from '../model/messages.js';
import { PREF, readPref, writePref } from './prefs.js';

export type CancelOnDisconnectState = 'off' | 'on' | 'pending';

export interface CancelOnDisconnect {
  /** what the server confirmed (`pending` while a change is on its way) */
  state: CancelOnDisconnectState;
  /** what the trader asked for */
  wanted: boolean;
  set: (on: boolean) => void;
}

export function useCancelOnDisconnect(client: QuantEnergxClient | null, userId: string, live: boolean, onError: (message: string) => void): CancelOnDisconnect {
  const key = PREF.cancelOnDisconnect(userId);
  const [wanted, setWanted] = useState(() => readPref(key) === '1');
  const [confirmed, setConfirmed] = useState<'off' | 'on'>('off');
  const [pending, setPending] = useState(false);
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;

  // a new client starts without it (the server knows it per connection)
  useEffect(() => setConfirmed('off'), [client]);

  const set = useCallback(
    (on: boolean) => {
      setWanted(on);
      writePref(key, on ? '1' : null);
    },
    [key],
  );

  const target = wanted ? 'on' : 'off';
  useEffect(() => {
    if (!client || !live || confirmed === target) return;
    let current = true;
    setPending(true);
    client
      .cancelOnDisconnect(target === 'on' ? 'connection' : 'off')
      .then(
        () => {
          if (current) setConfirmed(target);
        },
        (err: unknown) => {
          if (!current) return;
          // refused: the switch goes back to what the server has
          onErrorRef.current(`Cancel-on-disconnect could not be turned ${target}: ${explainError(err)}`);
          setWanted(confirmed === 'on');
          writePref(key, confirmed === 'on' ? '1' : null);
        },
      )
      .finally(() => {
        if (current) setPending(false);
      });
    return () => {
      current = false;
    };
  }, [client, live, target, confirmed, key]);

  return { state: pending ? 'pending' : confirmed, wanted, set };
}
