"""QuantEnergx Realtime for Python: the gateway's clients and REST API.

- :class:`QuantEnergxWebSocket` — the threaded client (python-socketio ``Client``);
- :class:`AsyncQuantEnergxWebSocket` — the same on asyncio (``socketio.AsyncClient``);
- :class:`QuantEnergxRest` / :class:`AsyncQuantEnergxRest` — orders, trades, positions, book,
  candles and the event log, typed;
- :class:`QuantEnergxError` — every error, with the gateway's ``code``;
- :mod:`quantenergx.frames` — pandas DataFrames of trades and candles (optional).
"""

__version__ = '0.1.0'

from ._core import QuantEnergxError  # noqa: E402
from .aio import AsyncQuantEnergxWebSocket  # noqa: E402
from .client import QuantEnergxWebSocket  # noqa: E402
from .rest import (AsyncQuantEnergxRest, Book, BookLevel, Candle, EventPage, LoggedEvent, Order, OrderPage,  # noqa: E402
                   Position, QuantEnergxRest, Trade, TradePage)


__all__ = ['__version__', 'QuantEnergxError', 'QuantEnergxWebSocket', 'AsyncQuantEnergxWebSocket', 'QuantEnergxRest',
           'AsyncQuantEnergxRest', 'Order', 'Trade', 'Position', 'Candle', 'Book', 'BookLevel', 'OrderPage',
           'TradePage', 'LoggedEvent', 'EventPage']
