"""The REST helpers (QuantEnergxRest, AsyncQuantEnergxRest) against a live gateway with its
trading core: typed results, coded errors."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import mint_token, run
from quantenergx import (AsyncQuantEnergxRest, Book, Candle, Order, Position, QuantEnergxError, QuantEnergxRest,
                         Trade)


@pytest.fixture
def api(url, user):
    with QuantEnergxRest(url, get_token=lambda: mint_token(user)) as client:
        yield client


def other(url):
    name = 'py-' + uuid.uuid4().hex[:10]
    return QuantEnergxRest(url, token=mint_token(name))


def test_place_list_get_cancel(api, user):
    placed = api.place_order('crude_oil', 'buy', 10, price=70.0, client_order_id='py-1')
    assert isinstance(placed, Order)
    assert (placed.user_id, placed.status, placed.type, placed.price) == (user, 'new', 'limit', 70.0)
    assert (placed.remaining_quantity, placed.client_order_id, placed.time_in_force) == (10, 'py-1', 'gtc')
    again = api.place_order('crude_oil', 'buy', 10, price=70.0, client_order_id='py-1')  # idempotent
    assert again.id == placed.id

    page = api.list_orders(status='open')
    assert [o.id for o in page.orders] == [placed.id]
    assert page.next_cursor is None
    assert api.get_order(placed.id).status == 'new'

    cancelled = api.cancel_order(placed.id)
    assert cancelled.status == 'cancelled'
    assert api.list_orders(status='open').orders == []
    assert [o.status for o in api.list_orders().orders] == ['cancelled']


def test_trades_positions_book(api, url, user):
    seller = other(url)
    resting = seller.place_order('crude_oil', 'sell', 5, price=76.5)
    book = api.book('crude_oil', depth=5)
    assert isinstance(book, Book)
    assert any(level.price == 76.5 and level.quantity >= 5 for level in book.asks)

    filled = api.place_order('crude_oil', 'buy', 5)  # a market order: takes the resting sell
    assert (filled.type, filled.status, filled.filled_quantity) == ('market', 'filled', 5)
    trades = api.trades(commodity='crude_oil')
    assert len(trades.trades) == 1
    t = trades.trades[0]
    assert isinstance(t, Trade)
    assert (t.side, t.quantity, t.price, t.order_id, t.liquidity) == ('buy', 5, 76.5, filled.id, 'taker')
    assert t.counterparty_order_id == resting.id
    assert datetime.fromisoformat(t.execution_time.replace('Z', '+00:00')) <= datetime.now(timezone.utc)

    positions = api.positions()
    assert [(p.commodity, p.net_quantity, p.average_price) for p in positions] == [('crude_oil', 5, 76.5)]
    assert isinstance(positions[0], Position)
    assert [(p.commodity, p.net_quantity) for p in seller.positions()] == [('crude_oil', -5)]

    page = api.events('orders-' + user)
    assert page.events and page.events[-1].envelope['payload']['status'] == 'filled'
    assert page.last_seq == page.events[-1].seq and not page.has_more


def test_coded_errors(api, url, user):
    with pytest.raises(QuantEnergxError) as caught:
        api.place_order('crude_oil', 'buy', 10, order_type='limit')  # no price
    assert (caught.value.code, caught.value.field, caught.value.status) == ('INVALID_ORDER', 'price', 400)
    with pytest.raises(QuantEnergxError) as caught:
        api.place_order('unobtainium', 'buy', 10, price=1.0)
    assert caught.value.code in ('INVALID_ORDER', 'UNKNOWN_COMMODITY')
    with pytest.raises(QuantEnergxError) as caught:
        api.cancel_order('no-such-order')
    assert (caught.value.code, caught.value.status) == ('ORDER_NOT_FOUND', 404)
    with pytest.raises(QuantEnergxError) as caught:
        api.events('orders-someone-else')
    assert (caught.value.code, caught.value.status) == ('FORBIDDEN', 403)
    with pytest.raises(QuantEnergxError) as caught:
        QuantEnergxRest(url, token='not-a-jwt').positions()
    assert (caught.value.code, caught.value.status) == ('INVALID_TOKEN', 401)
    with pytest.raises(QuantEnergxError) as caught:
        api.candles('crude_oil', interval='2m')
    assert (caught.value.code, caught.value.field) == ('INVALID_PAYLOAD', 'interval')


def test_expired_token_is_refreshed_once(url, user):
    tokens = iter([mint_token(user, ttl=-10), mint_token(user)])
    api = QuantEnergxRest(url, get_token=lambda: next(tokens))
    assert api.positions() == []
    expired_only = QuantEnergxRest(url, token=mint_token(user, ttl=-10))
    with pytest.raises(QuantEnergxError) as caught:
        expired_only.positions()
    assert caught.value.code == 'TOKEN_EXPIRED'


def test_candles(api, url):
    seller = other(url)
    seller.place_order('crude_oil', 'sell', 3, price=75.5)
    api.place_order('crude_oil', 'buy', 3)
    now = datetime.now(timezone.utc)
    try:
        candles = api.candles('crude_oil', '1m', start=now - timedelta(minutes=5), end=now + timedelta(minutes=1))
    except QuantEnergxError as err:
        if err.code == 'NOT_FOUND' and err.status == 404:
            pytest.skip('GET /api/v1/market/candles is not served by this gateway yet (issue 9)')
        raise
    assert candles and all(isinstance(c, Candle) for c in candles)
    last = candles[-1]
    assert last.low <= last.close <= last.high and last.volume >= 3


def test_async_rest(url, user):
    async def body():
        async with AsyncQuantEnergxRest(url, get_token=lambda: mint_token(user)) as api:
            placed = await api.place_order('natural_gas', 'sell', 100, price=3.2)
            assert (placed.commodity, placed.side, placed.status) == ('natural_gas', 'sell', 'new')
            assert [o.id for o in (await api.list_orders(status='open')).orders] == [placed.id]
            assert (await api.cancel_order(placed.id)).status == 'cancelled'
            with pytest.raises(QuantEnergxError) as caught:
                await api.get_order(placed.id + '-nope')
            assert caught.value.code == 'ORDER_NOT_FOUND'
            assert (await api.positions()) == []
    run(body())


def test_amend_cancel_all_flatten(api, url, user):
    # heating oil: a book no other test of this module trades
    first = api.place_order('heating_oil', 'buy', 100, price=2.4)
    second = other(url).place_order('heating_oil', 'buy', 100, price=2.4)
    smaller = api.amend_order(first.id, quantity=60)            # a decrease keeps time priority
    assert (smaller.id, smaller.quantity, smaller.remaining_quantity, smaller.price) == (first.id, 60, 60, 2.4)
    moved = api.amend_order(first.id, price='2.4100')           # a price change goes to the back at 2.41
    assert moved.price == 2.41
    with pytest.raises(QuantEnergxError) as caught:
        api.amend_order(first.id, price=2.41001)
    assert (caught.value.code, caught.value.status) == ('PRICE_OFF_TICK', 400)
    with pytest.raises(QuantEnergxError) as caught:
        api.amend_order(second.id, quantity=10)                 # not yours
    assert (caught.value.code, caught.value.status) == ('ORDER_NOT_FOUND', 404)
    with pytest.raises(QuantEnergxError):
        api.amend_order(first.id)                               # nothing to change

    taker = other(url)
    taker.place_order('heating_oil', 'sell', 60)                # market: fills the best bid, 2.41
    assert api.get_order(first.id).status == 'filled'
    with pytest.raises(QuantEnergxError) as caught:
        api.amend_order(first.id, quantity=80)
    assert (caught.value.code, caught.value.status) == ('ORDER_NOT_OPEN', 409)

    api.place_order('heating_oil', 'sell', 10, price=2.6)
    api.place_order('gasoline', 'sell', 10, price=2.5)
    assert [o.commodity for o in api.cancel_all(commodity='heating_oil')] == ['heating_oil']
    assert [o.status for o in api.cancel_all()] == ['cancelled']
    assert api.cancel_all() == []

    flat = api.flatten('heating_oil')                           # long 60: sells 60 into the bids at 2.40
    assert (flat.side, flat.type, flat.quantity, flat.status) == ('sell', 'market', 60, 'filled')
    with pytest.raises(QuantEnergxError) as caught:
        api.flatten('heating_oil')
    assert (caught.value.code, caught.value.status) == ('NO_POSITION', 409)


def test_amend_async(url, user):
    async def main():
        async with AsyncQuantEnergxRest(url, get_token=lambda: mint_token(user)) as api:
            order = await api.place_order('gasoline', 'buy', 10, price=2.3)
            amended = await api.amend_order(order.id, price=2.31, quantity=12)
            assert (amended.price, amended.quantity) == (2.31, 12)
            assert [o.id for o in await api.cancel_all('gasoline')] == [order.id]
            with pytest.raises(QuantEnergxError) as caught:
                await api.flatten('gasoline')
            assert caught.value.code == 'NO_POSITION'
    run(main())
