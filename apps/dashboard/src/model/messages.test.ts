import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COMMODITIES } from '@qx/protocol';
import { explain, explainReason, problemOf } from './messages.js';

const crude = DEFAULT_COMMODITIES.find((c) => c.symbol === 'crude_oil')!;
const power = DEFAULT_COMMODITIES.find((c) => c.symbol === 'power')!;

test('compliance refusals are said in lots, as the server counts them', () => {
  assert.equal(
    explain({ code: 'COMPLIANCE_REJECTED', message: 'Order size 5000000 exceeds the maximum order size 1000000 for WTI Crude Oil' }, crude),
    '5,000 lots is above the maximum order size of 1,000 lots for WTI Crude Oil',
  );
  assert.equal(
    explain({ code: 'COMPLIANCE_REJECTED', message: 'Order size 104000 exceeds the maximum order size 100000 for PJM West Power' }, power),
    '130 lots is above the maximum order size of 125 lots for PJM West Power',
  );
  assert.equal(
    explainReason('Order would exceed the position limit of 10000000 for WTI Crude Oil (projected position 10001000)', crude),
    'The order could take your WTI Crude Oil position to 10,001 lots long (counting your working orders), above the position limit of 10,000 lots',
  );
  assert.match(explainReason('Order would exceed the position limit of 10000000 for WTI Crude Oil (projected position -10500000)', crude), /10,500 lots short/);
});

test('no raw codes: prices to the tick, the grid named, the neighbours offered', () => {
  const offTick = explain({ code: 'PRICE_OFF_TICK', message: 'price 74.005 is not a multiple of the tick size 0.01', field: 'price' }, crude);
  assert.equal(offTick, '74.005 is not on the price grid: WTI Crude Oil trades in steps of 0.01 (try 74.00 or 74.01)');
  assert.equal(explain({ code: 'PRICE_OUT_OF_BAND', message: 'Price 50 is outside the allowed band 60.1–90.14' }, crude), '50.00 is outside the allowed band 60.10–90.14 (±20% of the last price)');
  assert.match(explain({ code: 'NO_LIQUIDITY', message: 'Fill-or-kill order cannot be filled in full' }), /fill-or-kill\): nothing traded/);
  for (const code of ['NETWORK', 'ORDER_NOT_OPEN', 'INVALID_QUANTITY', 'NO_POSITION', 'RATE_LIMITED', 'ENGINE_UNAVAILABLE', 'INVALID_TOKEN']) {
    const text = explain({ code, message: `${code} raw text` }, crude);
    assert.doesNotMatch(text, /[A-Z]{3,}_[A-Z]+/, `${code}: ${text}`);
  }
  assert.equal(explainReason('Day order expired at the end of the session'), 'Day order expired at the end of the session');
});

test('a halted or closed market and a disabled account: the name, the reason and until when, no code', () => {
  assert.equal(
    explain({ code: 'MARKET_HALTED', message: 'Trading in crude_oil is halted until 2026-03-02T14:05:03.120Z: Exchange incident', field: 'commodity' }, crude),
    'WTI Crude Oil is halted until 14:05:03 UTC: Exchange incident. Orders and amends are refused; cancels work',
  );
  assert.equal(explain({ code: 'MARKET_HALTED', message: 'Trading in crude_oil is halted until it is reopened: Velocity halt' }, crude), 'WTI Crude Oil is halted until it is reopened: Velocity halt. Orders and amends are refused; cancels work');
  assert.equal(explain({ code: 'MARKET_CLOSED', message: 'The crude_oil market is closed: Session closed' }, crude), 'WTI Crude Oil is closed: Session closed. Orders are refused until the next session opens');
  assert.equal(explain({ code: 'TRADING_DISABLED', message: 'Trading is disabled for this account: daily loss limit' }), 'Trading is turned off for your account by risk management: daily loss limit. Cancels still work');
  for (const code of ['REQUEST_TIMEOUT', 'NOT_CONNECTED', 'CLIENT_CLOSED', 'CONNECT_FAILED']) assert.doesNotMatch(explain({ code, message: `${code} raw` }), /[A-Z]{3,}_[A-Z]+/);
});

test('the code and message of whatever was thrown', () => {
  assert.deepEqual(problemOf(Object.assign(new Error('Order not found'), { code: 'ORDER_NOT_FOUND' })), { code: 'ORDER_NOT_FOUND', message: 'Order not found' });
  assert.deepEqual(problemOf(new Error('boom')), { code: 'ERROR', message: 'boom' });
  assert.deepEqual(problemOf({ code: 'X', message: 'm', field: 'price' }), { code: 'X', message: 'm', field: 'price' });
});
