"""Optional pandas helpers (``apt-get install python3-pandas`` or ``pip install pandas``): REST
results and streamed market data as DataFrames, times as UTC datetimes, prices and quantities
numeric, the same columns whether there are rows or not.

    from quantenergx.frames import candles_frame, ticks_frame, trades_frame
    trades = trades_frame(api.trades(limit=500))          # your fills, oldest first
    bars = candles_frame(api.candles('crude_oil', '1m'))  # indexed by bucket start
    ticks = ticks_frame(recorded_market_updates)          # indexed by the update's time
"""

import dataclasses
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Type, Union

from .book import BookView
from .rest import Book, Candle, Order, OrderPage, Position, Trade, TradePage, _build

__all__ = ['trades_frame', 'candles_frame', 'orders_frame', 'positions_frame', 'ticks_frame', 'book_frame', 'tape_frame']


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ImportError('quantenergx.frames needs pandas (Debian: apt-get install python3-pandas)') from exc
    return pandas


def _columns(cls: Type[Any]) -> List[str]:
    return [f.name for f in dataclasses.fields(cls) if f.name != 'extra']


def _rows(items: Iterable[Any], cls: Type[Any]) -> List[Dict[str, Any]]:
    rows = []
    for item in items:
        if isinstance(item, dict):
            item = _build(cls, item)
        row = dataclasses.asdict(item)
        row.update(row.pop('extra', {}) or {})
        rows.append(row)
    return rows


def _frame(pd: Any, rows: List[Dict[str, Any]], columns: Sequence[str]) -> Any:
    """A frame with at least ``columns`` (in that order), extra fields after them."""
    extra = [c for row in rows for c in row if c not in columns]
    return pd.DataFrame(rows, columns=list(columns) + list(dict.fromkeys(extra)))


def _times(pd: Any, series: Any) -> Any:
    if len(series) and pd.api.types.is_numeric_dtype(series):
        return pd.to_datetime(series, unit='ms', utc=True)
    return pd.to_datetime(series, utc=True)


def _numeric(pd: Any, frame: Any, columns: Sequence[str]) -> None:
    for column in columns:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors='coerce').astype('float64')


def trades_frame(trades: Union[TradePage, Iterable[Union[Trade, Mapping[str, Any]]]]) -> Any:
    """Your trades (a TradePage, Trade objects or wire dicts) as a DataFrame sorted by execution time."""
    pd = _pandas()
    if isinstance(trades, TradePage):
        trades = trades.trades[::-1]  # the API answers newest first; fills of one instant keep their order
    frame = _frame(pd, _rows(trades, Trade), _columns(Trade))
    frame['execution_time'] = _times(pd, frame['execution_time'])
    _numeric(pd, frame, ['price'])
    frame['quantity'] = frame['quantity'].astype('int64')
    return frame.sort_values('execution_time', kind='stable').reset_index(drop=True)


def candles_frame(candles: Iterable[Union[Candle, Mapping[str, Any]]]) -> Any:
    """Candles (Candle objects or wire dicts) as a DataFrame indexed by bucket start (UTC), with
    columns open, high, low, close, volume (and trades, when the gateway counts them)."""
    pd = _pandas()
    frame = _frame(pd, _rows(candles, Candle), _columns(Candle))
    frame['time'] = _times(pd, frame['time'])
    _numeric(pd, frame, ['open', 'high', 'low', 'close', 'volume'])
    return frame.set_index('time').sort_index()


def orders_frame(orders: Union[OrderPage, Iterable[Union[Order, Mapping[str, Any]]]]) -> Any:
    """Orders (an OrderPage, Order objects or wire dicts) as a DataFrame; ``price`` and
    ``average_price`` numeric (NaN for a market order's price and for an order nothing filled)."""
    pd = _pandas()
    if isinstance(orders, OrderPage):
        orders = orders.orders
    frame = _frame(pd, _rows(orders, Order), _columns(Order))
    for column in ('timestamp', 'created_at'):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    _numeric(pd, frame, ['price', 'average_price'])
    for column in ('filled_quantity', 'remaining_quantity'):
        frame[column] = frame[column].astype('int64')
    return frame


def positions_frame(positions: Iterable[Union[Position, Mapping[str, Any]]]) -> Any:
    """Positions as a DataFrame indexed by commodity."""
    pd = _pandas()
    frame = _frame(pd, _rows(positions, Position), _columns(Position))
    _numeric(pd, frame, ['average_price', 'realized_pnl'])
    return frame.set_index('commodity')


TICK_COLUMNS = ['time', 'commodity', 'price', 'bid', 'ask', 'volume', 'change', 'change_percent', 'seq']


def ticks_frame(updates: Iterable[Mapping[str, Any]]) -> Any:
    """``market-update`` envelopes (or their payloads) as a DataFrame indexed by the update's time
    (UTC): commodity, price, bid, ask, volume, change, change_percent, seq."""
    pd = _pandas()
    rows = []
    for update in updates:
        payload = update.get('payload', update)
        rows.append({'time': payload.get('timestamp', update.get('timestamp')), 'commodity': payload.get('commodity'),
                     'price': payload.get('price'), 'bid': payload.get('bid'), 'ask': payload.get('ask'),
                     'volume': payload.get('volume'), 'change': payload.get('change'),
                     'change_percent': payload.get('changePercent'), 'seq': update.get('seq')})
    frame = pd.DataFrame(rows, columns=TICK_COLUMNS)
    frame['time'] = _times(pd, frame['time'])
    _numeric(pd, frame, ['price', 'bid', 'ask', 'volume', 'change', 'change_percent'])
    frame['seq'] = pd.to_numeric(frame['seq'], errors='coerce').astype('Int64')
    return frame.set_index('time')


BOOK_COLUMNS = ['side', 'level', 'price', 'quantity', 'orders']


def book_frame(book: Union[BookView, Book]) -> Any:
    """A book (streamed or read over REST) as a DataFrame: one row per level, bids then asks,
    ``level`` 0 the best of its side."""
    pd = _pandas()
    rows = [{'side': side, 'level': i, 'price': level.price, 'quantity': level.quantity, 'orders': level.orders}
            for side, levels in (('bid', book.bids), ('ask', book.asks)) for i, level in enumerate(levels)]
    frame = pd.DataFrame(rows, columns=BOOK_COLUMNS)
    _numeric(pd, frame, ['price', 'quantity'])
    frame['level'] = frame['level'].astype('int64')
    frame['orders'] = frame['orders'].astype('int64')
    return frame


TAPE_COLUMNS = ['time', 'commodity', 'trade_id', 'price', 'quantity', 'side', 'seq']


def tape_frame(trades: Iterable[Mapping[str, Any]]) -> Any:
    """``market-trade`` events (the public tape) as a DataFrame indexed by trade time (UTC):
    commodity, trade_id, price, quantity, side (the aggressor's), seq."""
    pd = _pandas()
    rows = [{'time': t.get('time'), 'commodity': t.get('commodity'), 'trade_id': t.get('tradeId'), 'price': t.get('price'),
             'quantity': t.get('quantity'), 'side': t.get('side'), 'seq': t.get('seq')} for t in trades]
    frame = pd.DataFrame(rows, columns=TAPE_COLUMNS)
    frame['time'] = _times(pd, frame['time'])
    _numeric(pd, frame, ['price', 'quantity'])
    frame['seq'] = pd.to_numeric(frame['seq'], errors='coerce').astype('Int64')
    return frame.set_index('time').sort_index(kind='stable')
