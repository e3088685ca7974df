"""Order entry and the trading safety nets of both clients against a live gateway (issue 17):
place / cancel / amend / cancel all over the socket with acks and the owner's order-updates, REST
when the socket is down (idempotent by client_order_id across the switch), coded refusals
(MARKET_HALTED, TRADING_DISABLED, bad payloads), cancel-on-disconnect (asked again on a new
session), the dead-man's switch, and market status (snapshot, changes, kept in the client)."""

import asyncio
import socket
import time
from decimal import Decimal

import numpy as np
import pytest

from conftest import admin, async_until, holds, mint_token, run, until
from quantenergx import (AsyncDeadManSwitch, AsyncQuantEnergxRest, AsyncQuantEnergxWebSocket, DeadManSwitch, Order,
                         QuantEnergxError, QuantEnergxRest, QuantEnergxWebSocket, new_client_order_id)


@pytest.fixture
def client(url, user):
    clients = []

    def make(**kwargs):
        kwargs.setdefault('get_token', lambda: mint_token(user))
        kwargs.setdefault('reconnection_delay', 0.5)
        kwargs.setdefault('reconnection_delay_max', 1)
        ws = QuantEnergxWebSocket(url, user, request_timeout=5, **kwargs)
        ws.sio.randomization_factor = 0
        clients.append(ws)
        return ws
    yield make
    for ws in clients:
        ws.disconnect()


@pytest.fixture
def rest(url, user):
    with QuantEnergxRest(url, get_token=lambda: mint_token(user)) as api:
        yield api


def make_async(url, user, **kwargs):
    kwargs.setdefault('get_token', lambda: mint_token(user))
    kwargs.setdefault('reconnection_delay', 0.5)
    kwargs.setdefault('reconnection_delay_max', 1)
    ws = AsyncQuantEnergxWebSocket(url, user, request_timeout=5, **kwargs)
    ws.sio.randomization_factor = 0
    return ws


def drop_transport(ws):
    """The network fails under the threaded client: python-socketio reconnects."""
    ws.sio.eio.ws.sock.shutdown(socket.SHUT_RDWR)


def drop_async_transport(ws):
    """The network fails under the asyncio client: python-socketio reconnects."""
    ws.sio.eio.ws._writer.transport.abort()


def status_of(api, order_id):
    return api.get_order(order_id).status


def halted(commodity, reason):
    admin('/api/v1/admin/market/{}/halt'.format(commodity), {'reason': reason})


def reopen(commodity):
    admin('/api/v1/admin/market/{}/reopen'.format(commodity), {})


def trading_enabled(user, enabled):
    admin('/api/v1/admin/users/{}/trading'.format(user), {'enabled': enabled, 'reason': 'py risk test'})


def update_for(order_id, status):
    return lambda env: env['payload']['id'] == order_id and env['payload']['status'] == status


def next_update(updates, predicate, timeout=5.0):
    """The next event of an open events() stream (opened before acting) for which ``predicate`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        envelope = updates.get(timeout=max(0.01, deadline - time.monotonic())).data
        if predicate(envelope):
            return envelope


async def next_async_update(updates, predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        envelope = (await updates.get(max(0.01, deadline - time.monotonic()))).data
        if predicate(envelope):
            return envelope


# ---- threaded ------------------------------------------------------------------------------------


def test_socket_place_amend_cancel_cancel_all_with_acks_and_order_updates(client, rest):
    ws = client()
    ws.connect()
    ws.subscribe_to_trading_updates()
    with ws.events('order-update') as updates:
        placed = ws.place_order('crude_oil', 'buy', 10, price=Decimal('70.05'), client_order_id='py-sock-1')
        assert isinstance(placed, Order)
        assert (placed.status, placed.price, placed.quantity, placed.client_order_id) == ('new', 70.05, 10, 'py-sock-1')
        assert ws.stats['orders_over_socket'] == 1 and ws.stats['orders_over_rest'] == 0
        envelope = updates.get(timeout=5).data
        assert (envelope['payload']['id'], envelope['payload']['status']) == (placed.id, 'new')
        # the same client_order_id again: the same order, nothing placed
        assert ws.place_order('crude_oil', 'buy', 10, price='70.05', client_order_id='py-sock-1').id == placed.id

        amended = ws.amend_order(placed.id, price=np.float64(70.1), quantity=np.int64(5))
        assert (amended.id, amended.price, amended.quantity, amended.remaining_quantity) == (placed.id, 70.1, 5, 5)
        assert next_update(updates, lambda e: e['payload']['id'] == placed.id)['payload']['remainingQuantity'] == 5
        cancelled = ws.cancel_order(placed.id)
        assert cancelled.status == 'cancelled'
        next_update(updates, update_for(placed.id, 'cancelled'))

        crude = ws.place_order('crude_oil', 'buy', 1, price=70)
        gas = ws.place_order('natural_gas', 'buy', 1, price='2.5')
        assert [o.id for o in ws.cancel_all('crude_oil')] == [crude.id]
        assert [o.id for o in ws.cancel_all()] == [gas.id]
        assert ws.cancel_all() == []
    assert ws.stats['orders_over_rest'] == 0
    assert rest.list_orders(status='open').orders == []


def test_rest_when_the_socket_is_down_and_one_order_per_client_order_id(client, rest, url, user):
    ws = client(reconnection_delay=30, reconnection_delay_max=30)  # stays away once dropped
    ws.connect()
    cid = new_client_order_id()
    first = ws.place_order('crude_oil', 'buy', 3, price='70.01', client_order_id=cid)
    assert ws.stats['orders_over_socket'] == 1
    drop_transport(ws)
    until(lambda: not ws.connected, what='the socket is down')
    again = ws.place_order('crude_oil', 'buy', 3, price='70.01', client_order_id=cid)  # a retry after "no answer"
    assert ws.stats['orders_over_rest'] == 1
    assert again.id == first.id
    assert [o.client_order_id for o in rest.list_orders(status='open').orders] == [cid], 'exactly one order'
    assert ws.amend_order(first.id, quantity=2).quantity == 2
    assert ws.cancel_order(first.id).status == 'cancelled'
    assert ws.stats['orders_over_rest'] == 3
    ws.disconnect()  # also ends the reconnection waiting to run (python-socketio 5.7's disconnect() leaves it)
    pending = ws.sio._reconnect_task
    until(lambda: pending is None or not pending.is_alive(), what='the pending reconnection ends')

    # a client that never connected trades over REST
    lazy = client()
    order = lazy.place_order('crude_oil', 'buy', 1, price=70)
    assert lazy.stats['orders_over_rest'] == 1 and not lazy.connected
    assert [o.id for o in lazy.cancel_all()] == [order.id]


def test_halted_market_disabled_user_and_bad_payloads_are_coded_errors(client, rest, user):
    ws = client()
    ws.connect()
    halted('carbon', 'py halt test')
    try:
        with pytest.raises(QuantEnergxError) as caught:
            ws.place_order('carbon', 'buy', 1, price=70)
        assert (caught.value.code, caught.value.event) == ('MARKET_HALTED', 'place-order')
    finally:
        reopen('carbon')

    resting = ws.place_order('crude_oil', 'buy', 1, price=70)
    trading_enabled(user, False)
    try:
        with pytest.raises(QuantEnergxError) as caught:
            ws.place_order('crude_oil', 'buy', 1, price=70)
        assert caught.value.code == 'TRADING_DISABLED'
        with pytest.raises(QuantEnergxError) as caught:
            rest.place_order('crude_oil', 'buy', 1, price=70)  # the same code as REST
        assert (caught.value.code, caught.value.status) == ('TRADING_DISABLED', 403)
    finally:
        trading_enabled(user, True)
    assert status_of(rest, resting.id) == 'cancelled', 'the kill switch cancelled the open order'

    with pytest.raises(QuantEnergxError) as caught:
        ws.place_order('crude_oil', 'sideways', 1, price=70)
    assert (caught.value.code, caught.value.field, caught.value.event) == ('INVALID_ORDER', 'side', 'place-order')
    with pytest.raises(QuantEnergxError) as caught:
        ws.place_order('crude_oil', 'buy', 1, price=70.005)
    assert (caught.value.code, caught.value.field) == ('PRICE_OFF_TICK', 'price')
    with pytest.raises(QuantEnergxError) as caught:
        ws.cancel_order('ord-does-not-exist')
    assert caught.value.code == 'ORDER_NOT_FOUND'
    with pytest.raises(QuantEnergxError) as caught:
        ws.amend_order('ord-1')
    assert caught.value.code == 'INVALID_ORDER'
    with pytest.raises(QuantEnergxError) as caught:
        ws.cancel_on_disconnect('sometimes')
    assert (caught.value.code, caught.value.field) == ('INVALID_PAYLOAD', 'scope')
    with pytest.raises(QuantEnergxError) as caught:
        ws.cancel_all_after(500)  # below the gateway's 1 000 ms
    assert (caught.value.code, caught.value.field) == ('INVALID_PAYLOAD', 'timeoutMs')
    with pytest.raises(QuantEnergxError) as caught:
        ws.dead_man_switch(500, every_ms=100)
    assert caught.value.code == 'INVALID_PAYLOAD'


def test_cancel_on_disconnect_connection_also_after_a_new_session(client, rest):
    ws = client()
    ws.connect()
    assert ws.cancel_on_disconnect('connection') == {'scope': 'connection'}
    assert ws.cancel_on_disconnect_scope == 'connection'
    kept = rest.place_order('crude_oil', 'buy', 1, price=70)  # not placed through the socket: not covered
    first = ws.place_order('crude_oil', 'buy', 1, price=70)
    drop_transport(ws)
    until(lambda: status_of(rest, first.id) == 'cancelled', what='the dropped connection cancels its order')
    until(lambda: ws.authenticated and ws.stats['sessions'] == 2, what='a new session')
    second = ws.place_order('crude_oil', 'buy', 1, price=70)  # the scope was asked for again
    assert ws.stats['orders_over_socket'] == 2
    assert rest.get_order(first.id).reason == 'cancel_on_disconnect'
    ws.disconnect()
    until(lambda: status_of(rest, second.id) == 'cancelled', what='closing the client cancels its order')
    assert status_of(rest, kept.id) == 'new'
    rest.cancel_order(kept.id)


def test_dead_man_switch_rearms_and_fires_when_not_rearmed(client, rest):
    ws = client()
    ws.connect()
    order = ws.place_order('crude_oil', 'buy', 1, price=70)
    with ws.dead_man_switch(1000, every_ms=200) as switch:
        assert isinstance(switch, DeadManSwitch) and switch.active and switch.fires_at is not None
        holds(lambda: status_of(rest, order.id) == 'new', 2.5, what='re-armed: the order stays')
        assert switch.arms >= 3  # the first arm and re-arms (a busy machine makes fewer)
    assert not switch.active and switch.fires_at is None  # disarmed at the gateway
    assert status_of(rest, order.id) == 'new'

    answer = ws.cancel_all_after(1000)  # armed once, never again
    assert answer['timeoutMs'] == 1000 and answer['firesAt']
    until(lambda: status_of(rest, order.id) == 'cancelled', timeout=10, what='the dead-man fires')
    assert rest.get_order(order.id).reason == 'dead_man_switch'


def test_market_status_snapshot_changes_and_rest(client):
    ws = client()
    ws.connect()
    with ws.events('market-status') as statuses:
        ws.subscribe_status(['heating_oil', 'brent'])
        until(lambda: ws.market_status('heating_oil') is not None and ws.market_status('brent') is not None, what='snapshots')
        assert ws.market_status('heating_oil')['status'] == 'open' and ws.accepts_orders('heating_oil')
        assert sorted(statuses.get(timeout=5).data['commodity'] for _ in range(2)) == ['brent', 'heating_oil']
        assert ws.subscriptions()['status'] == ['brent', 'heating_oil']
        halted('heating_oil', 'py status test')
        try:
            change = next_update(statuses, lambda s: s['commodity'] == 'heating_oil' and s['status'] == 'halted')
            assert change['reason'] == 'py status test' and change['seq'] >= 1
            assert ws.market_status('heating_oil')['status'] == 'halted' and not ws.accepts_orders('heating_oil')
            rows = {row['commodity']: row for row in ws.get_market_status()}
            assert rows['heating_oil']['status'] == 'halted' and rows['brent']['status'] == 'open'
        finally:
            reopen('heating_oil')
        until(lambda: ws.market_status('heating_oil')['status'] == 'open', what='reopened')
        drop_transport(ws)  # followed again on the new session
        until(lambda: ws.authenticated and ws.stats['restores'] == 2, what='restored')
        halted('heating_oil', 'after the reconnect')
        try:
            until(lambda: ws.market_status('heating_oil')['reason'] == 'after the reconnect', what='the change after a reconnect')
        finally:
            reopen('heating_oil')
        ws.unsubscribe_status('brent')
        assert ws.market_status('brent') is None and 'brent' not in ws.market_statuses


# ---- asyncio -------------------------------------------------------------------------------------


async def poll(predicate, timeout=10.0, what='condition'):
    """Awaits an async predicate until it holds."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for ' + what)
        await asyncio.sleep(0.05)


def test_async_order_entry_over_the_socket_then_rest_with_one_order(url, user):
    async def body():
        ws = make_async(url, user, reconnection_delay=30, reconnection_delay_max=30)
        async with AsyncQuantEnergxRest(url, get_token=lambda: mint_token(user)) as api:
            try:
                await ws.connect()
                await ws.subscribe_to_trading_updates()
                async with ws.events('order-update') as updates:
                    cid = new_client_order_id()
                    placed = await ws.place_order('crude_oil', 'buy', 4, price=Decimal('70.02'), client_order_id=cid)
                    assert (placed.status, placed.price, ws.stats['orders_over_socket']) == ('new', 70.02, 1)
                    assert (await updates.get(5)).data['payload']['id'] == placed.id
                    amended = await ws.amend_order(placed.id, price='70.03', quantity=3)
                    assert (amended.price, amended.quantity) == (70.03, 3)
                    other = await ws.place_order('natural_gas', 'buy', 1, price='2.5')
                    assert [o.id for o in await ws.cancel_all('natural_gas')] == [other.id]
                    await next_async_update(updates, update_for(other.id, 'cancelled'))
                    with pytest.raises(QuantEnergxError) as caught:
                        await ws.place_order('crude_oil', 'buy', 'lots', price=70)
                    assert (caught.value.code, caught.value.field) == ('INVALID_ORDER', 'quantity')
                    with pytest.raises(QuantEnergxError) as caught:
                        await ws.place_order('unobtainium', 'buy', 1, price=70)
                    assert caught.value.code in ('INVALID_ORDER', 'UNKNOWN_COMMODITY')

                drop_async_transport(ws)
                await async_until(lambda: not ws.connected, what='the socket is down')
                again = await ws.place_order('crude_oil', 'buy', 4, price=Decimal('70.02'), client_order_id=cid)
                assert again.id == placed.id and ws.stats['orders_over_rest'] == 1
                page = await api.list_orders(status='open')
                assert [o.client_order_id for o in page.orders] == [cid], 'exactly one order'
                assert (await ws.cancel_order(placed.id)).status == 'cancelled'
                assert await ws.cancel_all() == []
            finally:
                await ws.disconnect()
    run(body())


def test_async_halt_kill_switch_and_market_status(url, user):
    async def body():
        ws = make_async(url, user)
        try:
            await ws.connect()
            async with ws.events('market-status') as statuses:
                await ws.subscribe_status('gasoline')
                snapshot = (await statuses.get(5)).data
                assert (snapshot['commodity'], snapshot['status']) == ('gasoline', 'open')
                halted('gasoline', 'py async halt')
                try:
                    change = await next_async_update(statuses, lambda s: s['status'] == 'halted')
                    assert change['reason'] == 'py async halt'
                    assert ws.market_status('gasoline')['status'] == 'halted'
                    assert {r['commodity']: r['status'] for r in await ws.get_market_status()}['gasoline'] == 'halted'
                    with pytest.raises(QuantEnergxError) as caught:
                        await ws.place_order('gasoline', 'buy', 1, price='2.3')
                    assert caught.value.code == 'MARKET_HALTED'
                finally:
                    reopen('gasoline')
                await async_until(lambda: ws.market_status('gasoline')['status'] == 'open', what='reopened')
            trading_enabled(user, False)
            try:
                with pytest.raises(QuantEnergxError) as caught:
                    await ws.place_order('crude_oil', 'buy', 1, price=70)
                assert caught.value.code == 'TRADING_DISABLED'
                assert await ws.cancel_all() == []  # cancels work
            finally:
                trading_enabled(user, True)
            assert ws.stats['orders_over_rest'] == 0
        finally:
            await ws.disconnect()
    run(body())


def test_async_cancel_on_disconnect_and_dead_man_switch(url, user):
    async def body():
        async with AsyncQuantEnergxRest(url, get_token=lambda: mint_token(user)) as api:
            async def status(order_id):
                return (await api.get_order(order_id)).status

            ws = make_async(url, user)
            try:
                await ws.connect()
                assert await ws.cancel_on_disconnect('connection') == {'scope': 'connection'}
                first = await ws.place_order('crude_oil', 'buy', 1, price=70)
                drop_async_transport(ws)

                async def first_cancelled():
                    return await status(first.id) == 'cancelled'
                await poll(first_cancelled, what='the dropped connection cancels its order')
                await async_until(lambda: ws.authenticated and ws.stats['sessions'] == 2, timeout=10, what='a new session')
                second = await ws.place_order('crude_oil', 'buy', 1, price=70)
                assert ws.stats['orders_over_socket'] == 2
                assert await ws.cancel_on_disconnect('off') == {'scope': 'off'}

                async with await ws.dead_man_switch(1000, every_ms=200) as switch:
                    assert isinstance(switch, AsyncDeadManSwitch) and switch.fires_at is not None
                    deadline = time.monotonic() + 2.5
                    while time.monotonic() < deadline:
                        assert await status(second.id) == 'new', 're-armed: the order stays'
                        await asyncio.sleep(0.05)
                    assert switch.arms >= 3  # the first arm and re-arms (a busy machine makes fewer)
                assert switch.fires_at is None and not switch.active
                switch = await ws.dead_man_switch(1000, every_ms=200)
                await switch.stop(disarm=False)  # the last deadline stands

                async def second_cancelled():
                    return await status(second.id) == 'cancelled'
                await poll(second_cancelled, what='the dead-man fires')
                assert (await api.get_order(second.id)).reason == 'dead_man_switch'
            finally:
                await ws.disconnect()
    run(body())


def test_async_cancel_on_disconnect_on_close(url, user):
    async def body():
        async with AsyncQuantEnergxRest(url, get_token=lambda: mint_token(user)) as api:
            ws = make_async(url, user)
            await ws.connect()
            await ws.cancel_on_disconnect('connection')
            order = await ws.place_order('crude_oil', 'buy', 1, price=70)
            await ws.disconnect()

            async def cancelled():
                return (await api.get_order(order.id)).status == 'cancelled'
            await poll(cancelled, what='closing the client cancels its order')
    run(body())
