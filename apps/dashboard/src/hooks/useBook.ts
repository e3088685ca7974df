/** Depth of one commodity's book, refetched (throttled) when that commodity's quote changes. */
import { useEffect, useState } from 'react';
import { fetchBook } from '../api/endpoints.js';
import { describeError } from '../api/http.js';
import type { LiveFeed } from '../live/feed.js';
import type { Book } from '../model/types.js';
import type { Authed } from './useSession.js';
import { throttle } from './throttle.js';

const REFRESH_MS = 400;

export function useBook(feed: LiveFeed | null, authed: Authed, commodity: string | null): { book: Book | null; error: string | null } {
  const [book, setBook] = useState<Book | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setBook(null);
    setError(null);
    if (!commodity) return;
    let live = true;
    const load = throttle(() => {
      authed((token) => fetchBook(token, commodity)).then(
        (b) => {
          if (!live) return;
          setBook(b);
          setError(null);
        },
        (err: unknown) => live && setError(describeError(err)),
      );
    }, REFRESH_MS);
    load();
    const off = feed?.onMarket((changed) => {
      if (changed.includes(commodity)) load();
    });
    return () => {
      live = false;
      load.cancel();
      off?.();
    };
  }, [feed, authed, commodity]);

  return { book, error };
}
