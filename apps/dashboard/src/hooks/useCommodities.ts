/** The commodity catalogue (loaded once per sign-in). */
import { useEffect, useState } from 'react';
import { fetchCommodities } from '../api/endpoints.js';
import { explainError } from '../model/messages.js';
import type { Commodity } from '../model/types.js';
import type { Authed } from './useSession.js';

export function useCommodities(authed: Authed): { commodities: Commodity[] | null; error: string | null } {
  const [commodities, setCommodities] = useState<Commodity[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    authed(fetchCommodities).then(
      (c) => live && setCommodities(c),
      (err: unknown) => live && setError(explainError(err)),
    );
    return () => {
      live = false;
    };
  }, [authed]);
  return { commodities, error };
}
