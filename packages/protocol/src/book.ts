/**
 * The streaming order book and the public tape (additions). A `book-snapshot` gives a
 * commodity's top `depth` levels per side; each `book-update` then carries only the levels that
 * changed (`quantity: 0` removes one), numbered by `seq`, with a CRC32 `checksum` of the top ten
 * levels so a client can prove its copy is right (as Kraken's book checksum does).
 *
 * Checksum text: the asks best (lowest) first, then the bids best (highest) first, at most ten
 * of each; for every level its price written with the snapshot's `decimals` and the dot
 * removed, then leading zeros removed, followed by its quantity (whole units, leading zeros
 * removed); all concatenated without separators. The checksum is the CRC-32 (IEEE 802.3, as zlib)
 * of that text's UTF-8 bytes, as an unsigned 32-bit integer.
 */
type Side = 'buy' | 'sell';

export interface BookLevel {
  price: number;
  quantity: number;
  /** resting orders at that price */
  orders: number;
}

export interface BookSnapshot {
  commodity: string;
  depth: number;
  /** decimals of the commodity's tick size: how prices are written in the checksum */
  decimals: number;
  /** the book as of update `seq`; the next update is `seq + 1` */
  seq: number;
  /** best first */
  bids: BookLevel[];
  asks: BookLevel[];
  checksum: number;
  timestamp: string;
}

export interface BookUpdate {
  commodity: string;
  depth: number;
  seq: number;
  /** changed levels only; `quantity: 0` removes the level */
  bids: BookLevel[];
  asks: BookLevel[];
  /** of the book after this update, truncated to `depth` */
  checksum: number;
  timestamp: string;
}

/** One trade on the public tape: no user ids, no order ids. */
export interface MarketTrade {
  commodity: string;
  tradeId: string;
  price: number;
  quantity: number;
  /** the aggressor's (taker's) side */
  side: Side;
  time: string;
  /** +1 per trade of the commodity */
  seq: number;
}

/** `book-subscribed`: `{commodity, depth, message}` for one commodity; `{commodities, depth, message}` for a list. */
export type BookConfirmation = { commodity: string; depth: number; message: string } | { commodities: string[]; depth: number; message: string };

/** `book-unsubscribed`: `{commodity, message}` for one commodity; `{commodities, message}` for a list. */
export type BookUnsubscribed = { commodity: string; message: string } | { commodities: string[]; message: string };

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE) of a string's UTF-8 bytes, unsigned. */
export function crc32(text: string): number {
  const bytes = new TextEncoder().encode(text);
  let crc = 0xffffffff;
  for (const b of bytes) crc = (CRC_TABLE[(crc ^ b) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const stripZeros = (s: string): string => s.replace(/^0+/, '');

/** The text the checksum is computed over (see the module comment). */
export function bookChecksumText(bids: readonly Pick<BookLevel, 'price' | 'quantity'>[], asks: readonly Pick<BookLevel, 'price' | 'quantity'>[], decimals: number): string {
  let text = '';
  const add = (l: Pick<BookLevel, 'price' | 'quantity'>) => {
    text += stripZeros(l.price.toFixed(decimals).replace('.', '')) + stripZeros(String(Math.round(l.quantity)));
  };
  for (const l of asks.slice(0, 10)) add(l);
  for (const l of bids.slice(0, 10)) add(l);
  return text;
}

export function bookChecksum(bids: readonly Pick<BookLevel, 'price' | 'quantity'>[], asks: readonly Pick<BookLevel, 'price' | 'quantity'>[], decimals: number): number {
  return crc32(bookChecksumText(bids, asks, decimals));
}
