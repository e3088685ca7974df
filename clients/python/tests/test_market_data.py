"""Market data for a quant (issue 19 items 13, 14, 18): the streamed book (checksum verified, a
wrong copy resubscribed and repaired), the public tape, both subscribed again after a reconnect;
frames of ticks, the book and the tape; candles with a limit; naive datetimes read as local time;
frames that keep their columns when empty."""

import os
import socket
import time
import uuid
from datetime import datetime, timedelta

import pytest

from conftest import mint_token, run, until
from quantenergx import AsyncQuantEnergxWebSocket, BookLevel, QuantEnergxRest, QuantEnergxWebSocket, book_checksum

pd = pytest.importorskip('pandas', reason='pandas not installed (Debian: python3-pandas)')
from quantenergx.frames import (book_frame, candles_frame, orders_frame, positions_frame, tape_frame,  # noqa: E402
                                ticks_frame, trades_frame)


def trader(url):
    return QuantEnergxRest(url, token=mint_token('py-' + uuid.uuid4().hex[:10]))


def test_checksum_is_the_gateways():
    # docs/protocol.md's example: asks 75.30x500, 75.31x1200, bids 75.25x1000, 0.05x7 at 2 decimals
    asks = [BookLevel(75.30, 500), BookLevel(75.31, 1200)]
    bids = [BookLevel(75.25, 1000), BookLevel(0.05, 7)]
    import zlib
    assert book_checksum(bids, asks, 2) == zlib.crc32(b'7530500753112007525100057')


def levels(book):
    return [(lvl.price, lvl.quantity) for lvl in book.bids], [(lvl.price, lvl.quantity) for lvl in book.asks]


def collect(events, seen, until_true, what, timeout=5.0):
    """Reads the stream into ``seen`` until ``until_true()`` holds (other tests share the gateway's
    books, so what is asserted is relative to what the gateway says)."""
    deadline = time.monotonic() + timeout
    while not until_true():
        assert time.monotonic() < deadline, 'timed out waiting for {}: {}'.format(what, [e.name for e in seen])
        try:
            seen.append(events.get(timeout=0.1))
        except Exception:
            pass


def traded(seen, side):
    return sum(e.data['quantity'] for e in seen if e.name == 'market-trade' and e.data['side'] == side)


def test_streamed_book_and_tape_survive_a_wrong_copy_and_a_reconnect(url, user):
    maker, taker = trader(url), trader(url)
    maker.place_order('power', 'buy', 10, price=45.5)
    maker.place_order('power', 'sell', 10, price=54.5)
    ws = QuantEnergxWebSocket(url, user, get_token=lambda: mint_token(user), reconnection_delay=0.2, reconnection_delay_max=0.5)
    ws.sio.randomization_factor = 0
    ticks = []
    ws.on('market-update', ticks.append)
    same = lambda: ws.book('power') is not None and levels(ws.book('power')) == levels(maker.book('power', depth=5))  # noqa: E731
    with ws, ws.events('book', 'book-resync', 'market-trade') as events:
        ws.subscribe_to_market_data('power')
        assert ws.subscribe_book('power', depth=5)['depth'] == 5
        ws.subscribe_trades('power')
        seen = []
        collect(events, seen, same, 'the snapshot, as the gateway has it')

        # the copy goes wrong (as if an update were lost): the next update's checksum says so, and a new snapshot repairs it
        with ws._lock:
            copy = ws._books['power']
            copy.asks[-1] = BookLevel(copy.asks[-1].price, copy.asks[-1].quantity + 1)
        taker.place_order('power', 'sell', 3)  # into the bids: trades and a book update
        collect(events, seen, lambda: traded(seen, 'sell') == 3 and any(e.name == 'book-resync' for e in seen) and same(),
                'a resync and a repaired copy')
        resync = next(e for e in seen if e.name == 'book-resync')
        assert resync.data == ('power', 'checksum-mismatch') and ws.stats['book_resyncs'] == 1
        trade = next(e for e in seen if e.name == 'market-trade').data
        assert (trade['commodity'], trade['side']) == ('power', 'sell') and 'userId' not in trade

        # a reconnect: the book and the tape are subscribed again
        restores = ws.stats['restores']
        ws.sio.eio.ws.sock.shutdown(socket.SHUT_RDWR)
        until(lambda: ws.stats['restores'] > restores, timeout=10, what='reconnected and subscribed again')
        taker.place_order('power', 'buy', 2)  # into the asks
        collect(events, seen, lambda: traded(seen, 'buy') == 2 and same(), 'the tape and the book after the reconnect', 10)

        book = book_frame(ws.book('power'))
        assert list(book.columns) == ['side', 'level', 'price', 'quantity', 'orders']
        best_ask = maker.book('power', depth=1).asks[0]
        assert book[book.side == 'ask'].iloc[0][['price', 'quantity']].tolist() == [best_ask.price, best_ask.quantity]
        tape = tape_frame([e.data for e in seen if e.name == 'market-trade'])
        assert list(tape.columns) == ['commodity', 'trade_id', 'price', 'quantity', 'side', 'seq']
        assert tape.groupby('side')['quantity'].sum().to_dict() == {'buy': 2, 'sell': 3}
        assert str(tape.index.dtype) == 'datetime64[ns, UTC]'
    frame = ticks_frame(ticks)
    assert list(frame.columns) == ['commodity', 'price', 'bid', 'ask', 'volume', 'change', 'change_percent', 'seq']
    assert (frame['commodity'] == 'power').all() and frame['price'].dtype == 'float64' and len(frame) >= 2


def test_async_book_and_tape(url, user):
    async def body():
        import asyncio
        maker, taker = trader(url), trader(url)
        maker.place_order('carbon', 'sell', 5, price=71)
        async with AsyncQuantEnergxWebSocket(url, user, get_token=lambda: mint_token(user)) as ws:
            async with ws.events('market-trade') as tape:
                await ws.subscribe_book('carbon', depth=3)
                await ws.subscribe_trades(['carbon'])
                taker.place_order('carbon', 'buy', 2)
                bought = 0
                while bought < 2:
                    trade = (await tape.get(5)).data
                    assert (trade['commodity'], trade['side']) == ('carbon', 'buy')
                    bought += trade['quantity']
            deadline = time.monotonic() + 5
            while ws.book('carbon') is None or levels(ws.book('carbon')) != levels(maker.book('carbon', depth=3)):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
    run(body())


def test_candles_with_a_limit_and_naive_datetimes_as_local_time(url, user):
    api = QuantEnergxRest(url, token=mint_token(user))
    trader(url).place_order('brent', 'sell', 2, price=79.5)
    api.place_order('brent', 'buy', 2)
    previous = os.environ.get('TZ')
    os.environ['TZ'] = 'Asia/Tokyo'
    time.tzset()
    try:
        # a naive datetime is local time: five minutes ago in Tokyo is five minutes ago
        candles = api.candles('brent', '1m', start=datetime.now() - timedelta(minutes=5))
        assert candles and candles[-1].volume >= 2
        assert len(api.candles('brent', '1m', start=datetime.now() - timedelta(days=1), limit=1)) == 1
    finally:
        if previous is None:
            del os.environ['TZ']
        else:
            os.environ['TZ'] = previous
        time.tzset()


def test_frames_keep_their_columns_and_types_when_empty_or_unfilled(url, user):
    api = QuantEnergxRest(url, token=mint_token(user))
    for frame, columns in ((orders_frame([]), ['id', 'status', 'price', 'average_price']), (trades_frame([]), ['price', 'quantity']),
                           (positions_frame([]), ['net_quantity', 'average_price']), (candles_frame([]), ['open', 'close']),
                           (ticks_frame([]), ['price', 'bid']), (tape_frame([]), ['price', 'side'])):
        assert frame.empty and set(columns) <= set(frame.columns), list(frame.columns)
    resting = api.place_order('crude_oil', 'buy', 5, price='70.05')
    assert resting.average_price is None  # nothing filled: None, not the gateway's 0
    market = {'id': 'ord-x', 'userId': user, 'status': 'rejected', 'filledQuantity': 0, 'remainingQuantity': 0,
              'averagePrice': 0, 'type': 'market', 'commodity': 'heating_oil'}  # a market order has no price
    frame = orders_frame([resting, market])
    assert frame['price'].dtype == 'float64' and frame['average_price'].dtype == 'float64'
    assert frame['price'].iloc[0] == 70.05 and pd.isna(frame['price'].iloc[1]) and frame['average_price'].isna().all()
    api.cancel_all()
