import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialLiveState } from '@qx/client/react';
import { connectionOf, isLive } from './connection.js';

test('the screen connection follows the SDK status, with why it is not live', () => {
  assert.deepEqual(connectionOf(initialLiveState), { status: 'connecting', detail: null, reconnects: 0 });
  const down = connectionOf({ ...initialLiveState, status: 'reconnecting', disconnectReason: { code: 'SHUTDOWN', numeric: 4503, message: 'Server shutting down' } });
  assert.deepEqual(down, { status: 'reconnecting', detail: 'Server shutting down', reconnects: 0 });
  assert.equal(isLive(down), false);
  const back = connectionOf({ ...initialLiveState, status: 'connected', reconnects: 1, disconnectReason: { code: 'SHUTDOWN', numeric: 4503, message: 'Server shutting down' } });
  assert.deepEqual(back, { status: 'connected', detail: null, reconnects: 1 });
  assert.equal(connectionOf({ ...initialLiveState, status: 'auth-error', error: { code: 'INVALID_TOKEN', message: 'Invalid token' } }).detail, 'Invalid token');
  assert.equal(connectionOf({ ...initialLiveState, status: 'closed' }).status, 'offline');
});
