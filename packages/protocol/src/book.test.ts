import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { bookChecksum, bookChecksumText, crc32 } from './book.js';

test('crc32 is the IEEE CRC-32 of the UTF-8 bytes (as zlib)', () => {
  assert.equal(crc32('123456789'), 0xcbf43926);
  assert.equal(crc32(''), 0);
  for (const s of ['7525100', 'abc', '2445542000€']) assert.equal(crc32(s), zlibCrc32(Buffer.from(s, 'utf8')));
});

test('checksum text: asks best first, then bids best first, dots and leading zeros removed, ten per side', () => {
  const asks = [{ price: 75.3, quantity: 500 }, { price: 75.31, quantity: 1200 }];
  const bids = [{ price: 75.25, quantity: 1000 }, { price: 0.05, quantity: 7 }];
  assert.equal(bookChecksumText(bids, asks, 2), '7530500' + '75311200' + '75251000' + '57');
  assert.equal(bookChecksum(bids, asks, 2), crc32('753050075311200752510005' + '7'));
  // prices are written with the commodity's decimals: 2.4 at 4 decimals is 24000
  assert.equal(bookChecksumText([{ price: 2.4, quantity: 42000 }], [], 4), '2400042000');
  const many = Array.from({ length: 15 }, (_, i) => ({ price: 100 - i, quantity: 1 }));
  assert.equal(bookChecksumText(many, [], 0), Array.from({ length: 10 }, (_, i) => `${100 - i}1`).join(''));
});
