"""The asyncio client (AsyncQuantEnergxWebSocket) against a live gateway: same semantics as the
threaded one. Each test body runs on its own event loop (conftest.run), bounded in time."""

import asyncio

import pytest

from conftest import async_until, mint_token, order, publish, publish_orders, run, trade
from quantenergx import AsyncQuantEnergxWebSocket, QuantEnergxError


class Recorder:
    EVENTS = ('connect', 'disconnect', 'market-update', 'trade-update', 'order-update', 'request-error', 'error',
              'auth-success', 'auth-error', 'stream-gap')

    def __init__(self, ws):
        self.events = {e: [] for e in self.EVENTS}
        for event in self.EVENTS:
            ws.on(event, lambda *args, event=event: self.events[event].append(args[0] if args else None))

    def __getitem__(self, event):
        return list(self.events[event])


def make(url, user, ttl=3600, **kwargs):
    kwargs.setdefault('get_token', lambda: mint_token(user, ttl))
    ws = AsyncQuantEnergxWebSocket(url, user, reconnection_delay=0.5, reconnection_delay_max=1, request_timeout=5, **kwargs)
    # python-socketio 5.7 adds its jitter in seconds (here up to +-0.5 s): none, so that a dropped
    # client stays away 0.5 s and what is published meanwhile is really missed
    ws.sio.randomization_factor = 0
    return ws, Recorder(ws)


def drop_transport(ws):
    """The network fails under the client: the TCP connection is aborted, python-socketio reconnects."""
    ws.sio.eio.ws._writer.transport.abort()


async def in_thread(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def test_flow_and_reconnect_without_loss(url, user):
    async def body():
        ws, seen = make(url, user)
        try:
            await ws.connect()
            assert ws.authenticated
            await async_until(lambda: len(seen['auth-success']) == 1, what='auth-success')
            assert seen['auth-success'][0]['userId'] == user
            confirmation = await ws.subscribe_to_market_data(['crude_oil'])
            assert confirmation['message'] == 'Subscribed to market data for: crude_oil'
            joined, orders = await ws.subscribe_to_trading_updates()
            assert (joined['room'], orders['room']) == ('trading-' + user, 'orders-' + user)

            await in_thread(publish, 'market-update', {'commodity': 'crude_oil', 'price': 77.5, 'change': 0.5,
                                                       'changePercent': 0.65, 'volume': 1000})
            await in_thread(publish, 'trade-update', trade(user, 't1'), user)
            await in_thread(publish, 'order-update', order(user, 'o1'), user)
            await async_until(lambda: ws.market.get('crude_oil', {}).get('price') == 77.5, what='market-update')
            await async_until(lambda: len(seen['trade-update']) == 1 and len(seen['order-update']) == 1, what='updates')

            sessions = ws.stats['sessions']
            drop_transport(ws)
            await async_until(lambda: len(seen['disconnect']) == 1, what='disconnect')
            await in_thread(publish_orders, user, ['o2', 'o3', 'o4'])
            await in_thread(publish, 'trade-update', trade(user, 't2'), user)
            await async_until(lambda: ws.stats['sessions'] > sessions and ws.authenticated, timeout=10, what='reconnect')
            await async_until(lambda: len(seen['order-update']) == 4 and len(seen['trade-update']) == 2, timeout=10,
                              what='missed events')
            await in_thread(publish, 'order-update', order(user, 'o5'), user)
            await async_until(lambda: len(seen['order-update']) == 5, what='live order after reconnect')
            await asyncio.sleep(0.3)
            assert [e['seq'] for e in seen['order-update']] == [1, 2, 3, 4, 5]
            assert [e['payload']['id'] for e in seen['order-update']] == ['o1', 'o2', 'o3', 'o4', 'o5']
            assert [e['seq'] for e in seen['trade-update']] == [1, 2]
            assert ws.last_seqs()['orders-' + user] == 5
            assert ws.stats['resumes'] >= 1
            assert len(seen['connect']) == 2 and len(seen['disconnect']) >= 1
            assert seen['error'] == []
        finally:
            await ws.disconnect()
    run(body())


def test_acks_are_awaitables_with_coded_errors(url, user):
    async def body():
        ws, seen = make(url, user)
        await ws.connect()
        try:
            pong = await ws.ping()
            assert pong['timestamp'] > 0
            # requests run concurrently; each gets its own answer
            market, compliance, ping = await asyncio.gather(
                ws.subscribe_to_market_data(['crude_oil', 'unobtainium']), ws.subscribe_to_compliance_alerts('someone-else'),
                ws.ping(), return_exceptions=True)
            assert isinstance(market, QuantEnergxError) and market.code == 'UNKNOWN_COMMODITY'
            assert market.event == 'subscribe-market'
            assert isinstance(compliance, QuantEnergxError) and compliance.code == 'FORBIDDEN'
            assert ping['timestamp'] > 0
            await async_until(lambda: len(seen['request-error']) == 2, what='request-error events')
            assert sorted(e.code for e in seen['request-error']) == ['FORBIDDEN', 'UNKNOWN_COMMODITY']
        finally:
            await ws.disconnect()
        with pytest.raises(QuantEnergxError) as caught:
            await ws.ping()
        assert caught.value.code == 'CLIENT_CLOSED'
    run(body())


def test_refused_token(url, user):
    async def body():
        ws = AsyncQuantEnergxWebSocket(url, user, token='not-a-jwt', request_timeout=5)
        errors = []
        ws.on('auth-error', errors.append)
        try:
            with pytest.raises(QuantEnergxError) as caught:
                await ws.connect(timeout=3)
            assert caught.value.code == 'INVALID_TOKEN'
            await async_until(lambda: len(errors) >= 1, what='auth-error')
            assert errors[0].code == 'INVALID_TOKEN'
        finally:
            await ws.disconnect()
    run(body())


def test_duplicates_dropped_and_handlers_in_order(url, user):
    async def body():
        ws, seen = make(url, user)
        slow = []

        async def slow_handler(envelope):
            # a coroutine handler is awaited before the next event is handed out
            await asyncio.sleep(0.01)
            slow.append(envelope['seq'])
        ws.on('order-update', slow_handler)
        await ws.connect()
        try:
            await ws.subscribe_to_trading_updates()
            await in_thread(publish_orders, user, ['o{}'.format(i) for i in range(20)])
            await async_until(lambda: len(slow) == 20, what='orders')
            await ws.sio.call('resume', {'orders-' + user: 0}, timeout=5)  # the gateway replays all again
            await async_until(lambda: ws.stats['duplicates_dropped'] >= 20, what='duplicates dropped')
            await asyncio.sleep(0.1)
            assert slow == list(range(1, 21))
            assert len(seen['order-update']) == 20
        finally:
            await ws.disconnect()
    run(body())


def test_gap_filled_from_the_event_log(url, user):
    async def body():
        ws, seen = make(url, user, gap_timeout=0.5)
        await ws.connect()
        try:
            await ws.subscribe_to_trading_updates()
            await in_thread(publish, 'order-update', order(user, 'first'), user)
            await async_until(lambda: len(seen['order-update']) == 1, what='first order')
            # away until everything is published (the reconnect is the client's own connect path)
            ws.sio.reconnection = False
            drop_transport(ws)
            await async_until(lambda: len(seen['disconnect']) == 1, what='disconnect')
            missed = 1200  # more than the 1,000 a resume replays: the rest comes from GET /api/v1/events
            await in_thread(publish_orders, user, ['m{}'.format(i) for i in range(missed)])
            ws.sio.reconnection = True
            await ws.connect()
            await async_until(lambda: len(seen['order-update']) == missed + 1, timeout=30, what='missed orders')
            await asyncio.sleep(0.2)
            assert [e['seq'] for e in seen['order-update']] == list(range(1, missed + 2))
            assert ws.stats['log_reads'] >= 1
            assert ws.stats['events_lost'] == 0 and seen['stream-gap'] == []
        finally:
            await ws.disconnect()
    run(body())


def test_token_refresh_before_expiry_and_after_token_expired(url, user):
    async def body():
        async def get_token():  # a coroutine function works as a token provider too
            return mint_token(user, 5)
        ws, seen = make(url, user, get_token=get_token)
        await ws.connect()
        lazy = None
        try:
            await ws.subscribe_to_trading_updates()
            sid = ws.sio.sid
            # 5-second tokens, refreshed ahead of expiry (at 4 s) on the same connection
            await async_until(lambda: ws.stats['token_refreshes'] >= 1, timeout=8, what='a refresh')
            await asyncio.sleep(1.5)  # past the first token's expiry
            assert seen['auth-error'] == []
            assert ws.sio.sid == sid, 'refreshed without reconnecting'
            await in_thread(publish, 'order-update', order(user, 'after-refresh'), user)
            await async_until(lambda: len(seen['order-update']) == 1, what='order after refreshes')

            lazy, lazy_seen = make(url, user, ttl=2, refresh_before_expiry=False)
            await lazy.connect()
            await lazy.subscribe_to_trading_updates()
            await async_until(lambda: any(e.code == 'TOKEN_EXPIRED' for e in lazy_seen['auth-error']), timeout=6,
                              what='TOKEN_EXPIRED')
            await in_thread(publish_orders, user, ['p1', 'p2'])
            await async_until(lambda: len(lazy_seen['order-update']) == 2, timeout=8, what='orders after expiry')
            assert [e['seq'] for e in lazy_seen['order-update']] == [2, 3]
            await async_until(lambda: lazy.authenticated, what='authenticated again')
            assert lazy.stats['token_refreshes'] >= 1
            assert (await lazy.ping())['timestamp'] > 0
        finally:
            await ws.disconnect()
            if lazy is not None:
                await lazy.disconnect()
    run(body())
