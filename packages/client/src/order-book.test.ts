import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bookChecksum, type BookLevel, type BookSnapshot, type BookUpdate } from '@qx/protocol/wire';
import { LocalBook } from './order-book.js';

const lv = (price: number, quantity: number, orders = 1): BookLevel => ({ price, quantity, orders });

function snapshot(bids: BookLevel[], asks: BookLevel[], depth = 3, seq = 7): BookSnapshot {
  return { commodity: 'crude_oil', depth, decimals: 2, seq, bids, asks, checksum: bookChecksum(bids, asks, 2), timestamp: '2026-01-01T00:00:00.000Z' };
}

/** An update as the server would send it for the book that should result. */
function update(seq: number, changes: { bids?: BookLevel[]; asks?: BookLevel[] }, after: { bids: BookLevel[]; asks: BookLevel[] }): BookUpdate {
  return { commodity: 'crude_oil', depth: 3, seq, bids: changes.bids ?? [], asks: changes.asks ?? [], checksum: bookChecksum(after.bids, after.asks, 2), timestamp: '2026-01-01T00:00:01.000Z' };
}

test('updates insert, change and remove levels, keep sides sorted best first and truncate to the depth', () => {
  const book = new LocalBook(snapshot([lv(75.2, 100), lv(75.1, 200)], [lv(75.3, 50), lv(75.4, 60), lv(75.5, 70)]));
  const afterBids = [lv(75.25, 10), lv(75.2, 150), lv(75.1, 200)];
  // a better ask pushes 75.5 out of the top 3; the server says so (quantity 0) or the client truncates
  const afterAsks = [lv(75.28, 5), lv(75.3, 50), lv(75.4, 60)];
  const r = book.apply(update(8, { bids: [lv(75.25, 10), lv(75.2, 150)], asks: [lv(75.28, 5)] }, { bids: afterBids, asks: afterAsks }));
  assert.equal(r, 'applied');
  assert.deepEqual(book.bids, afterBids);
  assert.deepEqual(book.asks, afterAsks);
  const removed = { bids: [lv(75.2, 150), lv(75.1, 200)], asks: afterAsks };
  assert.equal(book.apply(update(9, { bids: [lv(75.25, 0, 0)] }, removed)), 'applied');
  assert.deepEqual(book.bids, removed.bids);
  assert.equal(book.seq, 9);
  assert.equal(book.view().checksum, bookChecksum(removed.bids, removed.asks, 2));
});

test('an old update is ignored; a skipped seq is a gap', () => {
  const book = new LocalBook(snapshot([lv(75.2, 100)], [lv(75.3, 50)]));
  const same = { bids: [lv(75.2, 100)], asks: [lv(75.3, 50)] };
  assert.equal(book.apply(update(7, {}, same)), 'stale');
  assert.equal(book.apply(update(9, {}, same)), 'gap');
  assert.equal(book.seq, 7);
});

test('a book that differs from the server\'s fails the checksum', () => {
  const book = new LocalBook(snapshot([lv(75.2, 100)], [lv(75.3, 50)]));
  // the server's book has 120 at 75.20 after this update, but the client missed that change
  const r = book.apply(update(8, { asks: [lv(75.3, 40)] }, { bids: [lv(75.2, 120)], asks: [lv(75.3, 40)] }));
  assert.equal(r, 'checksum-mismatch');
});
