"""QuantEnergx Realtime for Python: the gateway's clients and REST API.

- :class:`QuantEnergxWebSocket` — the threaded client (python-socketio ``Client``);
- :class:`AsyncQuantEnergxWebSocket` — the same on asyncio (``socketio.AsyncClient``);
- :class:`QuantEnergxRest` / :class:`AsyncQuantEnergxRest` — orders, trades, positions, book,
  candles, the catalogue and the event log, typed; prices exact;
- :class:`Commodity` — the catalogue, with ``round_price`` onto the tick grid;
- :class:`QuantEnergxError` — every error, with the gateway's ``code``;
- :mod:`quantenergx.frames` — pandas DataFrames of trades, candles, orders, positions, ticks, books
  and the tape (optional).
"""

__version__ = '0.1.0'

from ._core import QuantEnergxError  # noqa: E402
from .aio import AsyncDeadManSwitch, AsyncEventStream, AsyncQuantEnergxWebSocket  # noqa: E402
from .book import BookView, LocalBook, book_checksum  # noqa: E402
from .catalogue import Commodity  # noqa: E402
from .client import DeadManSwitch, Event, EventStream, QuantEnergxWebSocket  # noqa: E402
from .rest import (AsyncQuantEnergxRest, Book, BookLevel, Candle, EventPage, LoggedEvent, Order, OrderPage,  # noqa: E402
                   Position, QuantEnergxRest, Trade, TradePage, new_client_order_id)

__all__ = ['__version__', 'QuantEnergxError', 'QuantEnergxWebSocket', 'AsyncQuantEnergxWebSocket', 'QuantEnergxRest',
           'AsyncQuantEnergxRest', 'Commodity', 'Order', 'Trade', 'Position', 'Candle', 'Book', 'BookLevel', 'BookView',
           'LocalBook', 'book_checksum', 'OrderPage', 'TradePage', 'LoggedEvent', 'EventPage', 'Event', 'EventStream',
           'AsyncEventStream', 'DeadManSwitch', 'AsyncDeadManSwitch', 'new_client_order_id']
