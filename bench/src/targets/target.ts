/** A server under test: started by the bench on a free port, measured from outside, stopped. */
export const TARGET_NAMES = ['gateway', 'raw-ws', 'plain-socketio'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface RunningTarget {
  name: TargetName;
  baseUrl: string;
  pid: number;
  jwtSecret: string;
  publishApiKey: string;
  /** REST orders and the engine behind them (the gateway only) */
  hasOrders: boolean;
  /** has a slow-consumer policy (conflation, bounded buffers) */
  hasBackpressurePolicy: boolean;
  stop(): Promise<void>;
}

export function isTargetName(value: string): value is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(value);
}
