/**
 * The SDK's runnable examples (packages/client/examples/*.ts) against a real gateway in demo mode
 * (tokens from POST /api/v1/auth/dev-token, as the examples ask for them), each run as a user
 * would run it: a separate Node process loading the workspace's @qx/client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer } from './helpers.js';
import { describeRun, runProcess } from './run-process.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../packages/client/examples/', import.meta.url));

/** What each example must print (in this order). */
export const EXPECTED_OUTPUT: Record<string, RegExp[]> = {
  'quickstart.ts': [/authenticated as ex-quickstart-\d+/, /order placed: ord-\d+ new qx-[0-9a-f]{24}/, /order-update 1 new 10/, /crude_oil last price \d+(\.\d+)? best bid 70\n/],
  'errors.ts': [
    /request-error event: UNKNOWN_COMMODITY subscribe-market/,
    /subscribe unobtainium refused: UNKNOWN_COMMODITY/,
    /subscribe to someone else's orders refused: FORBIDDEN/,
    /subscribe crude_oil ok/,
    /after close: CLIENT_CLOSED/,
    /bad token: INVALID_TOKEN/,
  ],
  'resume.ts': [/disconnected: .* - reconnecting: true/, /order-update seqs: 1,2,3,4\n/, /events lost: 0/],
  'token-refresh.ts': [/authenticated until .*\n.*authenticated until/, /tokens issued: 2 - refreshes: 1/, /same connection: true - still subscribed to ex-token-refresh-\d+/],
};

export function assertOutput(name: string, output: string): void {
  const expected = EXPECTED_OUTPUT[name];
  assert.ok(expected, `no expected output for ${name}`);
  let rest = output;
  for (const re of expected) {
    const m = re.exec(rest);
    assert.ok(m, `${name}: expected ${re} in order, output was:\n${output}`);
    rest = rest.slice(m.index + m[0].length);
  }
}

test('every SDK example runs against a real gateway and prints what it promises', async (t) => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.ts')).sort();
  assert.deepEqual(files, Object.keys(EXPECTED_OUTPUT).sort(), 'every example has its expected output here');
  const server = await startServer({ JWT_SECRET: '' }); // demo mode: dev-token sign-in
  t.after(() => server.close());
  for (const file of files) {
    const user = `ex-${file.replace(/\.ts$/, '')}-${Date.now()}`;
    const r = await runProcess(process.execPath, ['--conditions=source', '--import', 'tsx', EXAMPLES + file], {
      cwd: ROOT,
      env: { QX_URL: server.url, QX_USER: user },
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, describeRun(file, r));
    assertOutput(file, r.output);
  }
});
