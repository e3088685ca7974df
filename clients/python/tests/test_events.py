"""Events as a quant reads them (issue 19 items 15, 16, 21): handlers one at a time, streams of
events that work anywhere (inside a handler too), ``async for`` in the asyncio client and a
context manager in the threaded one, unknown event names refused, a single symbol taken as one,
and the seed's subclass shape (``handle_market_update`` & co.) called."""

import asyncio
import threading

import pytest

from conftest import async_until, mint_token, order, publish, publish_orders, run, trade, until
from quantenergx import AsyncQuantEnergxWebSocket, QuantEnergxError, QuantEnergxRest, QuantEnergxWebSocket


def test_unknown_event_names_are_refused(url, user):
    for client in (QuantEnergxWebSocket(url, user, token='t'), AsyncQuantEnergxWebSocket(url, user, token='t')):
        with pytest.raises(QuantEnergxError) as caught:
            client.on('order_update', print)  # the seed's spelling: never sent by the gateway
        assert caught.value.code == 'UNKNOWN_EVENT' and "did you mean 'order-update'" in caught.value.message
        with pytest.raises(QuantEnergxError):
            client.on('orders', print)
    with pytest.raises(QuantEnergxError):
        with QuantEnergxWebSocket(url, user, token='t').events('fills'):
            pass


def test_threaded_event_stream_and_waiting_inside_a_handler(url, user):
    ws = QuantEnergxWebSocket(url, user, get_token=lambda: mint_token(user))
    seen_in_handler = []
    handler_threads = set()

    def on_first_order(envelope):
        # waiting here for the next update works: streams see events as they arrive
        handler_threads.add(threading.get_ident())
        if envelope['payload']['id'] == 'o1':
            seen_in_handler.append(ws.wait_for('order-update', lambda e: e['payload']['id'] == 'o2', timeout=5)['payload']['id'])

    ws.on('order-update', on_first_order)
    with ws:
        ws.subscribe_to_trading_updates()
        with ws.events('order-update', 'trade-update') as events:
            publish('order-update', order(user, 'o1'), user)
            publish('trade-update', trade(user, 't1'), user)
            # o2 once the handler waits for it (its stream registered beside this one): sent earlier, it passed unseen
            until(lambda: len(ws._sinks.get('order-update', [])) == 2, what='the handler waiting for o2')
            publish('order-update', order(user, 'o2'), user)
            got = [events.get(timeout=5) for _ in range(3)]
        assert [(e.name, e.data['seq']) for e in got] == [('order-update', 1), ('trade-update', 1), ('order-update', 2)]
        until(lambda: seen_in_handler == ['o2'], what='the handler that waited')
        assert len(handler_threads) == 1 and threading.get_ident() not in handler_threads
        with pytest.raises(QuantEnergxError) as caught:
            ws.wait_for('compliance-alert', timeout=0.2)
        assert caught.value.code == 'REQUEST_TIMEOUT'


def test_async_for_over_events(url, user):
    async def body():
        ws = AsyncQuantEnergxWebSocket(url, user, get_token=lambda: mint_token(user))
        async with ws:
            await ws.subscribe_to_trading_updates()
            async with ws.events('order-update') as updates:
                await asyncio.get_running_loop().run_in_executor(None, publish_orders, user, ['a', 'b', 'c'])
                ids = []
                async for event in updates:
                    ids.append(event.data['payload']['id'])
                    if len(ids) == 3:
                        break
            assert ids == ['a', 'b', 'c']
            waiter = asyncio.ensure_future(ws.wait_for('order-update', lambda e: e['payload']['id'] == 'd', timeout=5))
            # 'd' is published once the waiter listens (its stream is registered), not after a guessed pause
            await async_until(lambda: len(ws._sinks.get('order-update', [])) == 1, what='the waiter listening')
            await asyncio.get_running_loop().run_in_executor(None, publish_orders, user, ['d'])
            assert (await waiter)['seq'] == 4
    run(body())


def test_a_single_symbol_is_one_commodity(url, user):
    ws = QuantEnergxWebSocket(url, user, get_token=lambda: mint_token(user))
    with ws:
        assert ws.subscribe_to_market_data('crude_oil')['commodities'] == ['crude_oil']
        assert ws.subscriptions()['market'] == ['crude_oil']
        assert ws.subscribe_trades('brent')['commodities'] == ['brent']
        assert ws.unsubscribe_from_market_data('crude_oil')['commodities'] == ['crude_oil']
        with pytest.raises(QuantEnergxError) as caught:
            ws.subscribe_to_market_data(42)
        assert caught.value.code == 'INVALID_PAYLOAD'


class SeedClient(QuantEnergxWebSocket):
    """The seed's class shape: handlers as methods of a subclass."""

    def __init__(self, url, user_id, token):
        super().__init__(url, user_id, token)
        self.seen = []

    def handle_market_update(self, data):
        self.seen.append(('market', data['payload']['commodity']))

    def handle_trade_update(self, data):
        self.seen.append(('trade', data['payload']['id']))

    def handle_order_update(self, data):
        self.seen.append(('order', data['payload']['id']))

    def handle_system_alert(self, data):
        self.seen.append(('system', data['payload']['alertType']))


def test_the_seeds_subclass_shape_works(url, user):
    client = SeedClient(url, user, mint_token(user))
    client.connect()
    try:
        client.subscribe_to_market_data(['natural_gas'])
        client.subscribe_to_trading_updates()
        QuantEnergxRest(url, token=mint_token(user)).place_order('natural_gas', 'buy', 10, price=2.9)
        publish('trade-update', trade(user, 't-seed'), user)
        publish('system-alert', {'alertType': 'maintenance', 'severity': 'info', 'message': 'seed test'})
        until(lambda: {k for k, _ in client.seen} >= {'market', 'trade', 'order', 'system'}, what='every handle_* called')
        assert ('trade', 't-seed') in client.seen and ('market', 'natural_gas') in client.seen
        assert ('system', 'maintenance') in client.seen
    finally:
        client.disconnect()
