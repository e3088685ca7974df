/** Closes a position with a market order on the other side (`POST /api/v1/trading/positions/:commodity/flatten`). */
import { useState } from 'react';
import { flattenPosition } from '../api/endpoints.js';
import { describeError } from '../api/http.js';
import type { Order } from '../model/types.js';
import type { Authed } from '../hooks/useSession.js';

export function FlattenButton(props: { authed: Authed; commodity: string; onDone: (order: Order) => void; onError: (message: string) => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      name="flatten"
      className="btn-small btn-danger"
      disabled={busy}
      title={`Close the ${props.commodity} position at market`}
      onClick={() => {
        setBusy(true);
        props
          .authed((token) => flattenPosition(token, props.commodity))
          .then(props.onDone)
          .catch((err: unknown) => props.onError(`Flatten ${props.commodity}: ${describeError(err)}`))
          .finally(() => setBusy(false));
      }}
    >
      Flatten
    </button>
  );
}
