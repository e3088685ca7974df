"""The optional pandas helpers (Debian python3-pandas): trades and candles as DataFrames."""

import uuid

import pytest

from conftest import mint_token
from quantenergx import Candle, QuantEnergxRest

pd = pytest.importorskip('pandas', reason='pandas not installed (Debian: python3-pandas)')
from quantenergx.frames import candles_frame, positions_frame, trades_frame  # noqa: E402


def test_trades_frame_from_the_gateway(url, user):
    api = QuantEnergxRest(url, token=mint_token(user))
    seller = QuantEnergxRest(url, token=mint_token('py-' + uuid.uuid4().hex[:10]))
    for price in (76.1, 76.2):
        seller.place_order('crude_oil', 'sell', 2, price=price)
    api.place_order('crude_oil', 'buy', 4)  # fills against both
    frame = trades_frame(api.trades(commodity='crude_oil'))
    assert len(frame) == 2
    assert list(frame['price']) == [76.1, 76.2]  # oldest first (the API answers newest first)
    assert list(frame['quantity']) == [2, 2]
    assert str(frame['execution_time'].dtype) == 'datetime64[ns, UTC]'
    assert {'id', 'order_id', 'side', 'liquidity', 'counterparty_order_id'} <= set(frame.columns)
    assert (frame['price'] * frame['quantity']).sum() == pytest.approx(2 * 76.1 + 2 * 76.2)
    positions = positions_frame(api.positions())
    assert positions.loc['crude_oil', 'net_quantity'] == 4


def test_trades_frame_empty():
    frame = trades_frame([])
    assert frame.empty and 'execution_time' in frame.columns


def test_candles_frame():
    candles = [Candle('2026-12-01T10:01:00.000Z', 75.2, 75.6, 75.1, 75.5, 30),
               {'time': '2026-12-01T10:00:00.000Z', 'open': 75.0, 'high': 75.3, 'low': 74.9, 'close': 75.2, 'volume': 12}]
    frame = candles_frame(candles)
    assert list(frame.columns[:5]) == ['open', 'high', 'low', 'close', 'volume']
    assert [t.isoformat() for t in frame.index] == ['2026-12-01T10:00:00+00:00', '2026-12-01T10:01:00+00:00']
    assert frame['volume'].sum() == 42
    assert frame['close'].resample('5min').last().iloc[0] == 75.5
    by_ms = candles_frame([{'time': 1796115600000, 'open': 1, 'high': 2, 'low': 0.5, 'close': 1.5, 'volume': 3}])
    assert by_ms.index[0] == pd.Timestamp(1796115600000, unit='ms', tz='UTC')
    assert candles_frame([]).empty
