import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusNotice, statusTag } from './market-status.js';

test('a halt says why and until when (UTC); a halt until reopened says so; closed says until the next session; open says nothing', () => {
  assert.equal(statusNotice({ status: 'halted', reason: 'Exchange incident', until: '2026-03-02T14:05:03.120Z' }, 'Brent Crude Oil'), 'Brent Crude Oil is halted until 14:05:03 UTC: Exchange incident. Orders and amends are refused; cancels work.');
  assert.equal(statusNotice({ status: 'halted', reason: 'Velocity halt', until: null }, 'Brent Crude Oil'), 'Brent Crude Oil is halted until it is reopened: Velocity halt. Orders and amends are refused; cancels work.');
  assert.match(statusNotice({ status: 'closed', reason: 'Session closed', until: null }, 'Carbon') ?? '', /^Carbon is closed: Session closed\. Orders are refused until the next session opens/);
  assert.equal(statusNotice({ status: 'open', reason: 'Open', until: null }, 'Carbon'), null);
  assert.equal(statusNotice(undefined, 'Carbon'), null);
  assert.deepEqual([statusTag('open'), statusTag('halted'), statusTag('closed')], ['Open', 'Halted', 'Closed']);
});
