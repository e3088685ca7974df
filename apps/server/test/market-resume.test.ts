/**
 * Issue 10 item 18: a restart on the same DATA_DIR continues the simulated market — the price
 * from where it was, the day's change and volume kept — instead of starting the day again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, until } from './helpers.js';

const COMMODITY = 'crude_oil';

test('a restart on the same DATA_DIR keeps the simulated price, the day change and the volume', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qx-resume-'));
  try {
    const first = await startServer({ SIMULATOR: 'true', SIMULATOR_SEED: '7' }, { dataDir, keepData: true });
    try {
      // let the simulated market trade for a while and move away from the opening price
      await until(() => (first.app.publisher.latestMarketPayload(COMMODITY)?.volume ?? 0) >= 50, 20_000, 'simulated volume');
    } finally {
      await first.close();
    }
    const before = first.app.publisher.latestMarketPayload(COMMODITY)!;
    const reference = before.price - before.change;

    const second = await startServer({ SIMULATOR: 'true', SIMULATOR_SEED: '8' }, { dataDir, keepData: true });
    try {
      const now = second.app.exchange.marketData(COMMODITY)!;
      assert.ok(now.volume >= before.volume, `volume ${now.volume} continues from ${before.volume}`);
      assert.ok(Math.abs(now.price - before.price) <= before.price * 0.005, `price ${now.price} continues from ${before.price}`);
      assert.ok(Math.abs(now.price - now.change - reference) < 1e-9, `the day's reference ${reference} is kept (change ${now.change})`);
      // and the market goes on trading from there
      await until(() => (second.app.exchange.marketData(COMMODITY)?.volume ?? 0) > before.volume, 20_000, 'more volume');
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
