/** Closes a position with a market order on the other side (the SDK's `flatten`: `POST /api/v1/trading/positions/:commodity/flatten`). */
import { useState } from 'react';
import type { QuantEnergxClient } from '@qx/client';
import { describeError } from '../api/http.js';
import type { Order } from '../model/types.js';

export function FlattenButton(props: { client: QuantEnergxClient | null; commodity: string; onDone: (order: Order) => void; onError: (message: string) => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      name="flatten"
      className="btn-small btn-danger"
      disabled={busy || !props.client}
      title={`Close the ${props.commodity} position at market`}
      onClick={() => {
        if (!props.client) return;
        setBusy(true);
        props.client
          .flatten(props.commodity)
          .then(props.onDone)
          .catch((err: unknown) => props.onError(`Flatten ${props.commodity}: ${describeError(err)}`))
          .finally(() => setBusy(false));
      }}
    >
      Flatten
    </button>
  );
}
