/**
 * Entry point of the order-load process: many users placing resting orders and cancelling them,
 * over REST on keep-alive connections — each answered only once durable (committed) — either as
 * fast as the server answers (closed loop: the throughput) or at a fixed rate (open loop: the
 * latency at a given share of it).
 */
import { Histogram } from '../lib/histogram.js';
import { keepAliveAgent, postJson } from '../lib/http.js';
import { serveIpc } from '../lib/ipc.js';
import { maxLifetimeMs } from '../lib/lifetime.js';
import { selfCpuUs } from '../lib/proc-stats.js';
import { request as httpRequest, type Agent } from 'node:http';
import type { OrderLoadConfig, OrderLoadRequest, OrderLoadStats } from './order-load-protocol.js';

const ORDERS = '/api/v1/trading/orders';
/** open loop: a pair is not started while this many are unanswered (the server is behind) */
const MAX_IN_FLIGHT = 2000;

let running = false;

function del(agent: Agent, url: URL, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'DELETE', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('http timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function run(config: OrderLoadConfig): Promise<OrderLoadStats> {
  const agents = config.urls.map(() => keepAliveAgent(Math.max(64, config.concurrency)));
  const place = new Histogram();
  const cancel = new Histogram();
  const failures = new Map<string, number>();
  const fail = (key: string) => failures.set(key, (failures.get(key) ?? 0) + 1);
  let placed = 0;
  let cancelled = 0;
  let shed = 0;
  let n = 0;
  const body = JSON.stringify(config.order);

  /** One place then cancel, on the next gateway and the next user. */
  const pair = async (): Promise<void> => {
    const i = n++;
    const g = i % config.urls.length;
    const url = new URL(ORDERS, config.urls[g]);
    const headers = { authorization: `Bearer ${config.tokens[i % config.tokens.length] ?? ''}` };
    const t0 = performance.now();
    let id: string;
    try {
      const res = await postJson(agents[g]!, url, body, headers);
      if (res.status !== 201) return void fail(`place ${res.status}`);
      place.record((performance.now() - t0) * 1000);
      placed++;
      id = (JSON.parse(res.body) as { order: { id: string } }).order.id;
    } catch (error) {
      return void fail(error instanceof Error ? error.message.slice(0, 40) : 'error');
    }
    const t1 = performance.now();
    try {
      const status = await del(agents[g]!, new URL(`${ORDERS}/${id}`, config.urls[g]), headers);
      if (status !== 200) return void fail(`cancel ${status}`);
      cancel.record((performance.now() - t1) * 1000);
      cancelled++;
    } catch (error) {
      fail(error instanceof Error ? error.message.slice(0, 40) : 'error');
    }
  };

  running = true;
  const started = performance.now();
  const over = () => !running || performance.now() - started >= config.durationMs;
  if (config.mode === 'closed') {
    await Promise.all(
      Array.from({ length: config.concurrency }, async () => {
        while (!over()) await pair();
      }),
    );
  } else {
    let inFlight = 0;
    let sent = 0;
    while (!over()) {
      const due = Math.floor(((performance.now() - started) * config.rate) / 1000);
      while (sent < due) {
        sent++;
        if (inFlight >= MAX_IN_FLIGHT) {
          shed++;
          continue;
        }
        inFlight++;
        void pair().finally(() => inFlight--);
      }
      await new Promise((r) => setTimeout(r, Math.max(1, ((sent + 1) * 1000) / config.rate - (performance.now() - started))));
    }
    const drain = performance.now() + 10_000;
    while (inFlight > 0 && performance.now() < drain) await new Promise((r) => setTimeout(r, 5));
  }
  const elapsedMs = performance.now() - started;
  running = false;
  for (const a of agents) a.destroy();
  return {
    pid: process.pid,
    cpuUs: selfCpuUs(),
    placed,
    cancelled,
    failures: Object.fromEntries(failures),
    shed,
    elapsedMs,
    placeLatency: place.toSparse(),
    cancelLatency: cancel.toSparse(),
  };
}

serveIpc((raw) => {
  const request = raw as OrderLoadRequest;
  if (request.type === 'stop') {
    running = false;
    return null;
  }
  return run(request.config);
}, maxLifetimeMs());
