"""Prices a quant can trust (issue 19 items 10, 11, 16, 19): exact prices in every form, numpy and
pandas scalars wherever a number is taken, the catalogue as typed objects with a round-to-tick
helper, one outcome for orders that could not fill, and refusals that name their field."""

import json
import uuid
from decimal import Decimal

import pytest

from conftest import mint_token
from quantenergx import Commodity, QuantEnergxError, QuantEnergxRest
from quantenergx._numbers import dumps

np = pytest.importorskip('numpy', reason='numpy not installed (Debian: python3-numpy)')


@pytest.fixture
def api(url, user):
    with QuantEnergxRest(url, get_token=lambda: mint_token(user)) as client:
        yield client


def someone(url):
    return QuantEnergxRest(url, token=mint_token('py-' + uuid.uuid4().hex[:10]))


def test_decimals_are_written_with_exactly_their_digits():
    assert dumps({'price': Decimal('75.43'), 'q': 10}) == '{"price":75.43,"q":10}'
    assert json.loads(dumps({'p': Decimal('0.0001')}))['p'] == 0.0001
    assert dumps({'p': Decimal('7.5E+1'), 'n': np.int64(3), 'f': np.float64(2.5)}) == '{"p":75,"n":3,"f":2.5}'
    assert dumps({'s': '"x":1'}) == '{"s":"\\"x\\":1"}'  # strings stay strings


def test_every_form_of_a_price_is_placed_exactly(api):
    crude = api.commodity('crude_oil')
    assert isinstance(crude, Commodity) and crude.tick_size == Decimal('0.01') and crude.decimals == 2
    # float arithmetic lands off the grid; the helper puts it back on, exactly
    ask = 75.38
    assert ask + 0.05 == 75.42999999999999
    assert crude.round_price(ask + 0.05) == Decimal('75.43')
    assert crude.round_price(Decimal('75.437'), 'down') == Decimal('75.43') and crude.round_price('75.431', 'up') == Decimal('75.44')
    placed = [api.place_order('crude_oil', 'sell', 1, price=p) for p in
              (crude.round_price(ask + 0.05), Decimal('75.4400'), '75.45', 76, np.float64(75.46))]
    assert [o.price for o in placed] == [75.43, 75.44, 75.45, 76.0, 75.46]
    assert all(o.status == 'new' for o in placed)
    # a float that is not on the grid is refused, not rounded behind your back
    with pytest.raises(QuantEnergxError) as caught:
        api.place_order('crude_oil', 'sell', 1, price=ask + 0.05)
    assert (caught.value.code, caught.value.field) == ('PRICE_OFF_TICK', 'price')
    with pytest.raises(QuantEnergxError) as caught:
        api.place_order('crude_oil', 'sell', 1, price='75,43')
    assert (caught.value.code, caught.value.field, caught.value.status) == ('INVALID_ORDER', 'price', None)
    heating = api.commodity('heating_oil')
    assert heating.tick_size == Decimal('0.0001') and heating.on_tick('2.4501') and not heating.on_tick(2.45015)
    for order in placed:
        api.cancel_order(order.id)


def test_numpy_and_pandas_scalars_work_wherever_a_number_is_taken(api):
    pd = pytest.importorskip('pandas')
    prices = pd.Series([70.0, 70.01])
    order = api.place_order('crude_oil', 'buy', np.int64(10), price=prices.iloc[1])
    assert (order.quantity, order.price, order.status) == (10, 70.01, 'new')
    amended = api.amend_order(order.id, price=np.float64(70.02), quantity=np.int32(8))
    assert (amended.price, amended.quantity) == (70.02, 8)
    assert [o.id for o in api.list_orders(status='open', limit=np.int64(5)).orders] == [order.id]
    assert len(api.book('crude_oil', depth=np.int64(3)).bids) >= 1
    with pytest.raises(QuantEnergxError) as caught:
        api.place_order('crude_oil', 'buy', 2.5, price=70)
    assert (caught.value.code, caught.value.field) == ('INVALID_ORDER', 'quantity')
    api.cancel_all('crude_oil')


def test_an_order_that_cannot_fill_returns_the_order_fok_and_ioc_alike(api, url):
    # carbon: no test offers it under 71 (other tests share the gateway's books)
    someone(url).place_order('carbon', 'sell', 5, price=71)
    ioc = api.place_order('carbon', 'buy', 10, price=70, time_in_force='ioc')             # nothing offered that low
    fok = api.place_order('carbon', 'buy', 90000, price=71, time_in_force='fok')          # far more than is offered
    fok_market = api.place_order('carbon', 'buy', 90000, order_type='market', time_in_force='fok')
    assert [(o.status, o.filled_quantity, o.average_price) for o in (ioc, fok, fok_market)] == [
        ('cancelled', 0, None), ('rejected', 0, None), ('rejected', 0, None)]
    assert all(o.reason for o in (ioc, fok, fok_market))
    # a refusal still raises, naming its field
    with pytest.raises(QuantEnergxError) as caught:
        api.place_order('carbon', 'buy', 1, price=200)
    assert (caught.value.code, caught.value.field, caught.value.status) == ('PRICE_OUT_OF_BAND', 'price', 400)
    assert caught.value.order is not None and caught.value.order.status == 'rejected'


def test_place_order_is_idempotent_across_a_lost_answer(url, user):
    import requests

    class SlowNetwork(requests.Session):
        """The first order call reaches the gateway; its answer does not come back in time."""
        lost = 0

        def request(self, method, url, **kwargs):
            res = super().request(method, url, **kwargs)
            if method in ('POST',) and self.lost < 1:
                self.lost += 1
                raise requests.exceptions.ReadTimeout('read timed out (simulated)')
            return res

    with QuantEnergxRest(url, get_token=lambda: mint_token(user), session=SlowNetwork()) as api:
        order = api.place_order('brent', 'buy', 3, price=Decimal('77.5'))
        assert order.client_order_id.startswith('py-')
        mine = [o for o in api.list_orders(commodity='brent').orders if o.client_order_id == order.client_order_id]
        assert [o.id for o in mine] == [order.id], 'placed once, answered twice'
        api.cancel_order(order.id)
    with QuantEnergxRest(url, get_token=lambda: mint_token(user), session=SlowNetwork(), retries=0) as strict:
        with pytest.raises(QuantEnergxError) as caught:
            strict.place_order('brent', 'buy', 1, price=77)
        assert caught.value.code == 'REQUEST_TIMEOUT'
        strict.cancel_all()
    # flatten: the retry finds the position flat and still answers the order the first call placed
    someone(url).place_order('gasoline', 'sell', 4, price=2.5)
    with QuantEnergxRest(url, get_token=lambda: mint_token(user)) as api:
        api.place_order('gasoline', 'buy', 4)
    someone(url).place_order('gasoline', 'buy', 4, price=2.4)
    with QuantEnergxRest(url, get_token=lambda: mint_token(user), session=SlowNetwork()) as api:
        flat = api.flatten('gasoline')
        assert (flat.side, flat.quantity, flat.status) == ('sell', 4, 'filled')
        assert [o.id for o in api.list_orders(commodity='gasoline').orders if o.client_order_id == flat.client_order_id] == [flat.id]
