import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientAddress, parseTrustProxy, trustFunction, type TrustProxy } from './client-address.js';

const fn = (trust: TrustProxy) => trustFunction(trust);

test('no trusted proxy: the TCP peer, whatever X-Forwarded-For says', () => {
  assert.equal(clientAddress('203.0.113.9', '1.2.3.4', fn({ kind: 'none' })), '203.0.113.9');
});

test('one hop (TRUST_PROXY=true): the address the proxy appended, not the client-written ones', () => {
  const one = fn({ kind: 'hops', hops: 1 });
  assert.equal(clientAddress('10.0.0.1', '198.51.100.7', one), '198.51.100.7');
  // the client wrote 6.6.6.6 itself; the proxy appended the address it saw
  assert.equal(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.7', one), '198.51.100.7');
  assert.equal(clientAddress('10.0.0.1', ['6.6.6.6', '198.51.100.7'], one), '198.51.100.7');
  // no header: the peer itself
  assert.equal(clientAddress('10.0.0.1', undefined, one), '10.0.0.1');
  assert.equal(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.7', fn({ kind: 'hops', hops: 2 })), '6.6.6.6');
});

test('trusted CIDRs: walk from the peer while the hop is a trusted proxy; an untrusted peer is the client', () => {
  const cidrs = fn({ kind: 'addresses', addresses: ['10.0.0.0/8', 'loopback'] });
  assert.equal(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.7, 10.0.0.2', cidrs), '198.51.100.7');
  assert.equal(clientAddress('127.0.0.1', '6.6.6.6, 198.51.100.7', cidrs), '198.51.100.7');
  assert.equal(clientAddress('203.0.113.9', '198.51.100.7', cidrs), '203.0.113.9');
  // every hop trusted: the farthest one
  assert.equal(clientAddress('10.0.0.1', '10.1.1.1', cidrs), '10.1.1.1');
});

test('parseTrustProxy refuses what proxy-addr cannot compile', () => {
  assert.equal(parseTrustProxy('not-an-ip').ok, false);
  assert.equal(parseTrustProxy(',').ok, false);
  assert.deepEqual(parseTrustProxy('::1/128'), { ok: true, value: { kind: 'addresses', addresses: ['::1/128'] } });
});
