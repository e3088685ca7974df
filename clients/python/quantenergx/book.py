"""A client's copy of one streamed order book (``subscribe_book``): a ``book-snapshot``, then each
``book-update`` applied in seq order (a level with quantity 0 is removed; the book is cut to its
depth) and proven against the update's CRC-32 checksum, computed as the gateway does
(docs/protocol.md, "Checksum"). Anything else — a skipped seq, a checksum that does not match —
means the copy can no longer be trusted: the client subscribes again for a fresh snapshot. Pure:
no socket, no timers."""

import zlib
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

from .rest import BookLevel

__all__ = ['BookView', 'LocalBook', 'book_checksum', 'book_checksum_text']


@dataclass(frozen=True)
class BookView:
    """A streamed book as the client holds it: levels best first."""

    commodity: str
    depth: int
    seq: int
    bids: List[BookLevel]
    asks: List[BookLevel]
    checksum: int
    timestamp: Optional[str] = None

    def best_bid(self) -> Optional[BookLevel]:
        """The highest bid, or None when there is none."""
        return self.bids[0] if self.bids else None

    def best_ask(self) -> Optional[BookLevel]:
        """The lowest ask, or None when there is none."""
        return self.asks[0] if self.asks else None


def _level(data: Mapping[str, Any]) -> BookLevel:
    return BookLevel(float(data['price']), float(data['quantity']), int(data.get('orders', 0)))


def book_checksum_text(bids: Sequence[BookLevel], asks: Sequence[BookLevel], decimals: int) -> str:
    """The text the checksum is computed over: the top ten asks then the top ten bids, best first;
    per level the price with ``decimals`` decimals, dot and leading zeros removed, then the
    quantity (whole units, leading zeros removed)."""
    parts = []
    for level in list(asks[:10]) + list(bids[:10]):
        price = format(float(level.price), '.{}f'.format(decimals)).replace('.', '').lstrip('0')
        quantity = str(int(round(level.quantity))).lstrip('0')
        parts.append(price + quantity)
    return ''.join(parts)


def book_checksum(bids: Sequence[BookLevel], asks: Sequence[BookLevel], decimals: int) -> int:
    """CRC-32 (IEEE, as zlib) of the checksum text, unsigned."""
    return zlib.crc32(book_checksum_text(bids, asks, decimals).encode()) & 0xffffffff


class LocalBook:
    """One commodity's book, kept from a snapshot and checked deltas."""

    def __init__(self, snapshot: Mapping[str, Any]) -> None:
        self.commodity: str = str(snapshot['commodity'])
        self.depth: int = int(snapshot['depth'])
        self.decimals: int = int(snapshot['decimals'])
        self.seq: int = int(snapshot['seq'])
        self.timestamp: Optional[str] = snapshot.get('timestamp')
        self.bids: List[BookLevel] = [_level(x) for x in snapshot.get('bids', [])][:self.depth]
        self.asks: List[BookLevel] = [_level(x) for x in snapshot.get('asks', [])][:self.depth]

    def apply(self, update: Mapping[str, Any]) -> str:
        """Applies the next update: ``applied``, ``stale`` (an older one, ignored), or ``gap`` /
        ``checksum-mismatch`` (the copy is wrong: ask for a fresh snapshot)."""
        seq = int(update['seq'])
        if seq <= self.seq:
            return 'stale'
        if seq != self.seq + 1:
            return 'gap'
        self.bids = _merge(self.bids, update.get('bids', []), descending=True, depth=self.depth)
        self.asks = _merge(self.asks, update.get('asks', []), descending=False, depth=self.depth)
        self.seq = seq
        self.timestamp = update.get('timestamp', self.timestamp)
        return 'applied' if self.checksum() == int(update['checksum']) else 'checksum-mismatch'

    def checksum(self) -> int:
        """The checksum of the book as held."""
        return book_checksum(self.bids, self.asks, self.decimals)

    def view(self) -> BookView:
        """The book as it stands (a copy)."""
        return BookView(self.commodity, self.depth, self.seq, list(self.bids), list(self.asks), self.checksum(),
                        self.timestamp)


def _merge(levels: List[BookLevel], changes: Sequence[Mapping[str, Any]], descending: bool, depth: int) -> List[BookLevel]:
    by_price: Dict[float, BookLevel] = {level.price: level for level in levels}
    for change in changes:
        level = _level(change)
        if level.quantity > 0:
            by_price[level.price] = level
        else:
            by_price.pop(level.price, None)
    return sorted(by_price.values(), key=lambda level: level.price, reverse=descending)[:depth]
