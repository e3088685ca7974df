/** The env a baseline server reads: the same names as the gateway's, so one harness starts all. */
export interface BaselineConfig {
  port: number;
  host: string;
  jwtSecret: string;
  publishApiKey: string;
}

export function readBaselineConfig(env: NodeJS.ProcessEnv): BaselineConfig {
  const port = Number(env.PORT);
  const jwtSecret = env.JWT_SECRET ?? '';
  const publishApiKey = env.PUBLISH_API_KEY ?? '';
  if (!Number.isInteger(port) || port <= 0 || !jwtSecret || !publishApiKey) {
    throw new Error('baseline needs PORT, JWT_SECRET and PUBLISH_API_KEY');
  }
  return Object.freeze({ port, host: env.HOST ?? '127.0.0.1', jwtSecret, publishApiKey });
}

/** The line the harness waits for, in the gateway's log format. */
export function announceListening(name: string, port: number): void {
  process.stdout.write(`${JSON.stringify({ level: 'info', name, msg: 'listening', port })}\n`);
}
