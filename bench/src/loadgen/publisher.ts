/**
 * Entry point of the publisher process: offers a fixed load of market updates through
 * `POST /api/v1/publish` (one update per request, keep-alive, several in flight if needed), the
 * same way for every target. Each update carries `sentAt` for latency.
 */
import { nowMs } from '../lib/clock.js';
import { keepAliveAgent, postJson } from '../lib/http.js';
import { serveIpc } from '../lib/ipc.js';
import { maxLifetimeMs } from '../lib/lifetime.js';
import { selfCpuUs } from '../lib/proc-stats.js';
import { ServerEvent } from './wire.js';
import type { PublishConfig, PublisherRequest, PublisherStats } from './publisher-protocol.js';

export const PUBLISH_PATH = '/api/v1/publish';
/** an update leaving this much after its slot counts as late (the publisher fell behind) */
const LATE_MS = 5;

const counters = { sent: 0, accepted: 0, privateSent: 0, privateAccepted: 0, late: 0 };
const statuses = new Map<string, number>();
let running = false;
let startedAt = 0;

function stats(): PublisherStats {
  return {
    pid: process.pid,
    cpuUs: selfCpuUs(),
    ...counters,
    statuses: Object.fromEntries(statuses),
    elapsedMs: running ? performance.now() - startedAt : 0,
  };
}

function marketBody(commodity: string, n: number): string {
  const price = 75 + ((n % 200) - 100) / 100;
  return JSON.stringify({
    event: ServerEvent.MarketUpdate,
    payload: {
      commodity,
      price,
      change: 0.75,
      changePercent: 1.01,
      volume: 125000 + n,
      bid: price - 0.05,
      ask: price + 0.05,
      sentAt: nowMs(),
    },
  });
}

function orderBody(userId: string, n: number): string {
  return JSON.stringify({
    event: ServerEvent.OrderUpdate,
    userId,
    payload: { id: `bench-${n}`, userId, status: 'new', filledQuantity: 0, remainingQuantity: 1, averagePrice: null },
  });
}

async function run(config: PublishConfig): Promise<PublisherStats> {
  const url = new URL(PUBLISH_PATH, config.baseUrl);
  const agent = keepAliveAgent(config.maxInFlight);
  const headers = { authorization: `Bearer ${config.apiKey}` };
  let inFlight = 0;
  const send = (body: string, isPrivate: boolean): void => {
    inFlight++;
    postJson(agent, url, body, headers)
      .then((res) => {
        statuses.set(String(res.status), (statuses.get(String(res.status)) ?? 0) + 1);
        if (res.status >= 200 && res.status < 300) {
          if (isPrivate) counters.privateAccepted++;
          else counters.accepted++;
        }
      })
      .catch((error: unknown) => {
        const key = error instanceof Error ? error.message.slice(0, 60) : 'error';
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      })
      .finally(() => inFlight--);
  };

  running = true;
  startedAt = performance.now();
  while (running) {
    const elapsed = performance.now() - startedAt;
    if (elapsed >= config.durationMs) break;
    const due = Math.floor((elapsed * config.rate) / 1000);
    while (counters.sent < due && inFlight < config.maxInFlight) {
      if (elapsed - (counters.sent * 1000) / config.rate > LATE_MS) counters.late++;
      const commodity = config.commodities[counters.sent % config.commodities.length] ?? 'crude_oil';
      send(marketBody(commodity, counters.sent), false);
      counters.sent++;
    }
    const privateDue = Math.floor((elapsed * config.privateRate) / 1000);
    while (config.privateUsers.length > 0 && counters.privateSent < privateDue && inFlight < config.maxInFlight) {
      const user = config.privateUsers[counters.privateSent % config.privateUsers.length]!;
      send(orderBody(user, counters.privateSent), true);
      counters.privateSent++;
    }
    // sleep until the next update is due (at least 1 ms), not a busy 1 ms tick
    const nextMs = Math.min(((counters.sent + 1) * 1000) / config.rate, config.privateRate > 0 ? ((counters.privateSent + 1) * 1000) / config.privateRate : Infinity);
    await new Promise((r) => setTimeout(r, Math.max(1, nextMs - (performance.now() - startedAt))));
  }
  // let the last requests finish (bounded)
  const drainUntil = performance.now() + 5000;
  while (inFlight > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
  const result = stats();
  running = false;
  agent.destroy();
  return result;
}

serveIpc((raw) => {
  const request = raw as PublisherRequest;
  switch (request.type) {
    case 'run':
      return run(request.config);
    case 'stats':
      return stats();
    case 'stop':
      running = false;
      return null;
  }
}, maxLifetimeMs());
