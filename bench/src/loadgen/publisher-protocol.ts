/** What the harness and the publisher process say to each other over IPC. */
export interface PublishConfig {
  baseUrl: string;
  apiKey: string;
  /** market updates per second, one per HTTP request */
  rate: number;
  durationMs: number;
  /** round-robin over these */
  commodities: string[];
  maxInFlight: number;
  /** also publish `order-update` to these users' order streams, at `privateRate`/s in total */
  privateUsers: string[];
  privateRate: number;
}

export type PublisherRequest = { type: 'run'; config: PublishConfig } | { type: 'stats' } | { type: 'stop' };

export interface PublisherStats {
  pid: number;
  cpuUs: number;
  /** market updates sent, accepted (2xx) */
  sent: number;
  accepted: number;
  privateSent: number;
  privateAccepted: number;
  statuses: Record<string, number>;
  /** updates that left more than 5 ms after their slot (publisher behind: CPU or maxInFlight) */
  late: number;
  elapsedMs: number;
}
