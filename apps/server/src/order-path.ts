/**
 * When an order's step passed each point of its way (epoch ms, sub-ms precision), carried with its
 * events so the node that writes them to the owner's socket can time each hop.
 */
export interface PathTimes {
  /** a gateway received the request */
  receivedAt?: number | undefined;
  /** the gateway handed it to the engine (a cluster: pushed onto the command queue) */
  queuedAt?: number | undefined;
  /** the engine started it */
  startedAt?: number | undefined;
  /** its step was committed */
  committedAt?: number | undefined;
  /** its events were handed to the bus */
  publishedAt?: number | undefined;
  /**
   * W3C traceparent of the span the next hop belongs under, while traces are exported (see
   * tracing/order-tracing.ts); absent otherwise
   */
  trace?: string | undefined;
}
