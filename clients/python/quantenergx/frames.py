"""Optional pandas helpers (``apt-get install python3-pandas`` or ``pip install pandas``): REST
results as DataFrames, with times as UTC datetimes.

    from quantenergx.frames import trades_frame, candles_frame
    trades = trades_frame(api.trades(limit=500))       # one row per fill, oldest first
    bars = candles_frame(api.candles('crude_oil', '1m'))  # indexed by bucket start
"""

import dataclasses

from .rest import Candle, Order, OrderPage, Position, Trade, TradePage, _build

__all__ = ['trades_frame', 'candles_frame', 'orders_frame', 'positions_frame']


def _pandas():
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ImportError('quantenergx.frames needs pandas (Debian: apt-get install python3-pandas)') from exc
    return pandas


def _rows(items, cls):
    rows = []
    for item in items:
        if isinstance(item, dict):
            item = _build(cls, item)
        row = dataclasses.asdict(item)
        row.update(row.pop('extra', {}) or {})
        rows.append(row)
    return rows


def _times(pd, series):
    if pd.api.types.is_numeric_dtype(series):
        return pd.to_datetime(series, unit='ms', utc=True)
    return pd.to_datetime(series, utc=True)


def trades_frame(trades):
    """Trades (a TradePage, Trade objects or wire dicts) as a DataFrame sorted by execution time."""
    pd = _pandas()
    if isinstance(trades, TradePage):
        trades = trades.trades[::-1]  # the API answers newest first; fills of one instant keep their order
    columns = [f.name for f in dataclasses.fields(Trade) if f.name != 'extra']
    frame = pd.DataFrame(_rows(trades, Trade), columns=None if trades else columns)
    if frame.empty:
        return frame
    frame['execution_time'] = _times(pd, frame['execution_time'])
    return frame.sort_values('execution_time', kind='stable').reset_index(drop=True)


def candles_frame(candles):
    """Candles (Candle objects or wire dicts) as a DataFrame indexed by bucket start (UTC), with
    columns open, high, low, close, volume."""
    pd = _pandas()
    rows = _rows(candles, Candle)
    frame = pd.DataFrame(rows, columns=None if rows else ['time', 'open', 'high', 'low', 'close', 'volume'])
    frame['time'] = _times(pd, frame['time']) if rows else pd.to_datetime(frame['time'], utc=True)
    return frame.set_index('time').sort_index()


def orders_frame(orders):
    """Orders (an OrderPage, Order objects or wire dicts) as a DataFrame."""
    pd = _pandas()
    if isinstance(orders, OrderPage):
        orders = orders.orders
    frame = pd.DataFrame(_rows(orders, Order))
    for column in ('timestamp', 'created_at'):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def positions_frame(positions):
    """Positions as a DataFrame indexed by commodity."""
    pd = _pandas()
    frame = pd.DataFrame(_rows(positions, Position))
    return frame.set_index('commodity') if 'commodity' in frame else frame
