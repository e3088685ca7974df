/**
 * The Python client (clients/python) against the real gateway: runs its unittest suite with the
 * server's URL, publish key and token secret. Skipped when Debian's python3-socketio is missing,
 * except in CI, where that is a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, SECRET, PUBLISH_KEY } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const clientDir = fileURLToPath(new URL('../../../clients/python/', import.meta.url));

function pythonMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import socketio, websocket, requests'], { encoding: 'utf8' });
  if (probe.error) return probe.error.message;
  if (probe.status !== 0) return (probe.stderr || `exit ${probe.status}`).trim().split('\n').at(-1) ?? 'import failed';
  return null;
}

test('python client: authenticate, subscribe, receive, request errors, reconnect without loss', async (t) => {
  const missing = pythonMissing();
  if (missing !== null) {
    assert.notEqual(process.env['CI'], 'true', `python3-socketio is required in CI: ${missing}`);
    t.skip(`python3-socketio not installed: ${missing}`);
    return;
  }
  const server = await startServer();
  t.after(() => server.close());
  const child = spawn(PYTHON, ['-m', 'unittest', '-v', 'test_client'], {
    cwd: clientDir,
    env: { ...process.env, QX_URL: server.url, QX_PUBLISH_KEY: PUBLISH_KEY, QX_JWT_SECRET: SECRET, PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, `python -m unittest failed:\n${output}`);
  assert.match(output, /Ran 3 tests/);
  assert.match(output, /\nOK/);
  if (process.env['PY_LOG']) console.log(output);
});
