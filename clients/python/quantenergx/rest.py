"""REST helpers for what a quant does next: place, amend and cancel orders (one or all), flatten
a position, list orders and trades, read positions, the order book and candles, and the event log. Thin: one method per endpoint, typed
results (dataclasses with snake_case fields; fields the gateway adds later land in ``extra``),
errors as :class:`QuantEnergxError` with the gateway's code and the HTTP status.

    api = QuantEnergxRest('http://localhost:3001', get_token=fetch_token)
    order = api.place_order('crude_oil', 'buy', 10, price=70.0)      # a limit order
    api.cancel_order(order.id)

:class:`AsyncQuantEnergxRest` is the same on aiohttp, for asyncio code (every method is awaited).
"""

import dataclasses
import inspect
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional
from urllib.parse import quote

from ._core import QuantEnergxError, rest_origin

__all__ = ['QuantEnergxRest', 'AsyncQuantEnergxRest', 'Order', 'Trade', 'Position', 'Candle', 'BookLevel',
           'Book', 'OrderPage', 'TradePage', 'LoggedEvent', 'EventPage', 'CANDLE_INTERVALS']

CANDLE_INTERVALS = ('1m', '5m', '15m', '1h', '1d')


def _snake(name):
    return re.sub(r'(?<!^)(?=[A-Z])', '_', name).lower()


def _build(cls, data):
    """A dataclass from a wire object: camelCase keys to snake_case fields, the rest in ``extra``."""
    if not isinstance(data, dict):
        raise QuantEnergxError('INVALID_RESPONSE', 'expected an object for {}, got {!r}'.format(cls.__name__, data))
    names = {f.name for f in dataclasses.fields(cls)}
    known, extra = {}, {}
    for key, value in data.items():
        name = _snake(key)
        if name in names and name != 'extra':
            known[name] = value
        else:
            extra[key] = value
    missing = [f.name for f in dataclasses.fields(cls)
               if f.name not in known and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise QuantEnergxError('INVALID_RESPONSE', '{} without {}'.format(cls.__name__, ', '.join(missing)))
    return cls(**known, extra=extra)


@dataclass
class Order:
    id: str
    user_id: str
    status: str                      # new, partially_filled, filled, cancelled, rejected, expired
    filled_quantity: float
    remaining_quantity: float
    average_price: Optional[float] = None
    commodity: Optional[str] = None
    side: Optional[str] = None       # buy, sell
    type: Optional[str] = None       # limit, market
    price: Optional[float] = None
    quantity: Optional[float] = None
    time_in_force: Optional[str] = None
    client_order_id: Optional[str] = None
    reason: Optional[str] = None
    timestamp: Optional[str] = None  # ISO-8601, last change
    created_at: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Trade:
    id: str
    order_id: str
    user_id: str
    commodity: str
    quantity: float
    price: float
    side: str
    status: str
    execution_time: str              # ISO-8601
    counterparty_order_id: Optional[str] = None
    liquidity: Optional[str] = None  # maker, taker
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Position:
    user_id: str
    commodity: str
    net_quantity: float              # long > 0, short < 0
    average_price: float
    realized_pnl: float
    open_buy_quantity: float
    open_sell_quantity: float
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Candle:
    time: Any                        # the bucket's start, as the gateway sends it
    open: float
    high: float
    low: float
    close: float
    volume: float
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class BookLevel:
    price: float
    quantity: float
    orders: int = 0
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Book:
    commodity: str
    bids: List[BookLevel]
    asks: List[BookLevel]


@dataclass
class OrderPage:
    orders: List[Order]
    next_cursor: Optional[str]       # pass as ``before`` for the next (older) page


@dataclass
class TradePage:
    trades: List[Trade]
    next_cursor: Optional[str]


@dataclass
class LoggedEvent:
    event: str
    seq: int
    envelope: Dict[str, Any]


@dataclass
class EventPage:
    stream: str
    after: int
    events: List[LoggedEvent]
    has_more: bool
    last_seq: int


def _time_param(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')
    return value


def _params(**kwargs):
    return {k: _time_param(v) for k, v in kwargs.items() if v is not None}


def _order_body(commodity, side, quantity, price, order_type, time_in_force, client_order_id):
    order_type = order_type or ('market' if price is None else 'limit')
    body = {'commodity': commodity, 'side': side, 'type': order_type, 'quantity': quantity}
    if price is not None:
        body['price'] = price
    if time_in_force is not None:
        body['timeInForce'] = time_in_force
    if client_order_id is not None:
        body['clientOrderId'] = client_order_id
    return body


def _candles(body):
    rows = body.get('candles') if isinstance(body, dict) else body
    if not isinstance(rows, list):
        raise QuantEnergxError('INVALID_RESPONSE', 'no candles in the answer')
    out = []
    for row in rows:
        if isinstance(row, dict):
            row = dict(row)
            for key in ('start', 'openTime', 'timestamp', 't'):
                if 'time' not in row and key in row:
                    row['time'] = row.pop(key)
            for short, name in (('o', 'open'), ('h', 'high'), ('l', 'low'), ('c', 'close'), ('v', 'volume')):
                if name not in row and short in row:
                    row[name] = row.pop(short)
        out.append(_build(Candle, row))
    return out


def _book(body):
    return Book(body['commodity'], [_build(BookLevel, b) for b in body.get('bids', [])],
                [_build(BookLevel, a) for a in body.get('asks', [])])


def _event_page(body):
    return EventPage(body['stream'], body['after'], [LoggedEvent(e['event'], e['seq'], e['envelope']) for e in body['events']],
                     bool(body['hasMore']), body['lastSeq'])


class _Endpoints:
    """The endpoints as (method, path, params, body, parse) specs, shared by both clients."""

    @staticmethod
    def place_order(commodity, side, quantity, price=None, order_type=None, time_in_force=None, client_order_id=None):
        return ('POST', '/api/v1/trading/orders', None,
                _order_body(commodity, side, quantity, price, order_type, time_in_force, client_order_id),
                lambda b: _build(Order, b['order']))

    @staticmethod
    def cancel_order(order_id):
        return ('DELETE', '/api/v1/trading/orders/' + quote(str(order_id), safe=''), None, None,
                lambda b: _build(Order, b['order']))

    @staticmethod
    def amend_order(order_id, price=None, quantity=None):
        body = {}
        if price is not None:
            body['price'] = price
        if quantity is not None:
            body['quantity'] = quantity
        if not body:
            raise QuantEnergxError('INVALID_ORDER', 'give a new price, a new quantity, or both', 'amend_order')
        return ('PATCH', '/api/v1/trading/orders/' + quote(str(order_id), safe=''), None, body,
                lambda b: _build(Order, b['order']))

    @staticmethod
    def cancel_all(commodity=None):
        return ('DELETE', '/api/v1/trading/orders', _params(commodity=commodity), None,
                lambda b: [_build(Order, o) for o in b['cancelled']])

    @staticmethod
    def flatten(commodity):
        # an empty JSON object: aiohttp would otherwise label an empty POST application/octet-stream
        return ('POST', '/api/v1/trading/positions/{}/flatten'.format(quote(commodity, safe='')), None, {},
                lambda b: _build(Order, b['order']))

    @staticmethod
    def get_order(order_id):
        return ('GET', '/api/v1/trading/orders/' + quote(str(order_id), safe=''), None, None,
                lambda b: _build(Order, b['order']))

    @staticmethod
    def list_orders(status=None, commodity=None, limit=None, before=None):
        return ('GET', '/api/v1/trading/orders', _params(status=status, commodity=commodity, limit=limit, before=before), None,
                lambda b: OrderPage([_build(Order, o) for o in b['orders']], b.get('nextCursor')))

    @staticmethod
    def trades(commodity=None, limit=None, before=None):
        return ('GET', '/api/v1/trading/trades', _params(commodity=commodity, limit=limit, before=before), None,
                lambda b: TradePage([_build(Trade, t) for t in b['trades']], b.get('nextCursor')))

    @staticmethod
    def positions():
        return ('GET', '/api/v1/trading/positions', None, None, lambda b: [_build(Position, p) for p in b['positions']])

    @staticmethod
    def book(commodity, depth=None):
        return ('GET', '/api/v1/market/{}/book'.format(quote(commodity, safe='')), _params(depth=depth), None, _book)

    @staticmethod
    def candles(commodity, interval='1m', start=None, end=None):
        if interval not in CANDLE_INTERVALS:
            raise QuantEnergxError('INVALID_PAYLOAD', 'interval must be one of {}'.format(', '.join(CANDLE_INTERVALS)),
                                   'candles', 'interval')
        return ('GET', '/api/v1/market/candles', _params(commodity=commodity, interval=interval, **{'from': start, 'to': end}),
                None, _candles)

    @staticmethod
    def commodities():
        return ('GET', '/api/v1/market/commodities', None, None, lambda b: b['commodities'])

    @staticmethod
    def events(stream, after=0, limit=None):
        return ('GET', '/api/v1/events', _params(stream=stream, after=after, limit=limit), None, _event_page)


def _error(status, body, what):
    error = body.get('error') if isinstance(body, dict) else None
    if isinstance(error, dict):
        err = QuantEnergxError.from_wire(error, what, status)
    else:
        err = QuantEnergxError('HTTP_ERROR', 'HTTP {}'.format(status), what, status=status)
    err.body = body  # e.g. the refused order, when the gateway sent it
    return err


class _Base:
    def __init__(self, url, token=None, get_token=None, timeout=10.0):
        if not token and not get_token:
            raise ValueError('{} needs a token or get_token'.format(type(self).__name__))
        self.url = rest_origin(url)
        self.token = token
        self.get_token = get_token
        self.timeout = timeout


class QuantEnergxRest(_Base):
    """The REST API with ``requests``. ``token`` or ``get_token`` (a callable returning a JWT;
    called again once when the gateway answers TOKEN_EXPIRED).

    Methods: ``place_order(commodity, side, quantity, price=None, order_type=None,
    time_in_force=None, client_order_id=None)`` (a limit order with a price, a market order
    without), ``cancel_order(id)``, ``amend_order(id, price=None, quantity=None)``,
    ``cancel_all(commodity=None)``, ``flatten(commodity)``, ``get_order(id)``, ``list_orders(status=, commodity=, limit=,
    before=)``, ``trades(commodity=, limit=, before=)``, ``positions()``, ``book(commodity,
    depth=)``, ``candles(commodity, interval='1m', start=, end=)``, ``commodities()``,
    ``events(stream, after=0, limit=)``.
    """

    def __init__(self, url, token=None, get_token=None, timeout=10.0, session=None):
        super().__init__(url, token, get_token, timeout)
        import requests
        self._requests = requests
        self.session = session or requests.Session()

    def _token(self, fresh=False):
        if (fresh or not self.token) and self.get_token:
            self.token = self.get_token()
        return self.token

    def _call(self, what, spec):
        method, path, params, body, parse = spec
        for attempt in (0, 1):
            token = self._token(fresh=attempt == 1)
            try:
                res = self.session.request(method, self.url + path, params=params, json=body, timeout=self.timeout,
                                           headers={'Authorization': 'Bearer ' + token})
            except self._requests.RequestException as exc:
                raise QuantEnergxError('HTTP_ERROR', '{}: {}'.format(what, exc), what) from exc
            try:
                data = res.json()
            except ValueError:
                data = None
            if res.status_code < 400:
                return parse(data)
            err = _error(res.status_code, data, what)
            if err.code != 'TOKEN_EXPIRED' or not self.get_token or attempt == 1:
                raise err

    # ---- endpoints --------------------------------------------------------------------------

    def place_order(self, commodity: str, side: str, quantity: float, price: Optional[float] = None,
                    order_type: Optional[str] = None, time_in_force: Optional[str] = None,
                    client_order_id: Optional[str] = None) -> Order:
        """``POST /api/v1/trading/orders``: a limit order with ``price``, a market order without."""
        return self._call('place_order', _Endpoints.place_order(commodity, side, quantity, price, order_type,
                                                                 time_in_force, client_order_id))

    def cancel_order(self, order_id: str) -> Order:
        return self._call('cancel_order', _Endpoints.cancel_order(order_id))

    def amend_order(self, order_id: str, price: Any = None, quantity: Optional[float] = None) -> Order:
        """``PATCH /api/v1/trading/orders/:id`` (cancel/replace): a new price (number or decimal
        string) and/or a new total quantity (above the filled). A decrease keeps time priority; a
        price change or an increase loses it; a crossing price trades at once."""
        return self._call('amend_order', _Endpoints.amend_order(order_id, price, quantity))

    def cancel_all(self, commodity: Optional[str] = None) -> List[Order]:
        """``DELETE /api/v1/trading/orders``: cancels your open orders (of ``commodity``); returns them."""
        return self._call('cancel_all', _Endpoints.cancel_all(commodity))

    def flatten(self, commodity: str) -> Order:
        """``POST /api/v1/trading/positions/:commodity/flatten``: a market order closing your net
        position (``NO_POSITION`` when flat)."""
        return self._call('flatten', _Endpoints.flatten(commodity))

    def get_order(self, order_id: str) -> Order:
        return self._call('get_order', _Endpoints.get_order(order_id))

    def list_orders(self, status: Optional[str] = None, commodity: Optional[str] = None, limit: Optional[int] = None,
                    before: Optional[str] = None) -> OrderPage:
        """Newest first; ``status='open'`` for resting orders; ``before=page.next_cursor`` pages back."""
        return self._call('list_orders', _Endpoints.list_orders(status, commodity, limit, before))

    def trades(self, commodity: Optional[str] = None, limit: Optional[int] = None,
               before: Optional[str] = None) -> TradePage:
        """Your fills, newest first."""
        return self._call('trades', _Endpoints.trades(commodity, limit, before))

    def positions(self) -> List[Position]:
        return self._call('positions', _Endpoints.positions())

    def book(self, commodity: str, depth: Optional[int] = None) -> Book:
        return self._call('book', _Endpoints.book(commodity, depth))

    def candles(self, commodity: str, interval: str = '1m', start: Any = None, end: Any = None) -> List[Candle]:
        """``GET /api/v1/market/candles``: OHLC and volume per ``interval`` (1m, 5m, 15m, 1h, 1d)
        between ``start`` and ``end`` (datetimes, or values passed as they are)."""
        return self._call('candles', _Endpoints.candles(commodity, interval, start, end))

    def commodities(self) -> List[Dict[str, Any]]:
        return self._call('commodities', _Endpoints.commodities())

    def events(self, stream: str, after: int = 0, limit: Optional[int] = None) -> EventPage:
        """``GET /api/v1/events``: a private stream's (or ``system``'s) events after ``after``."""
        return self._call('events', _Endpoints.events(stream, after, limit))

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class AsyncQuantEnergxRest(_Base):
    """The same API on aiohttp; every method is a coroutine. ``get_token`` may be a plain function
    or a coroutine function. Use ``async with AsyncQuantEnergxRest(...) as api:`` or ``await
    api.close()``."""

    def __init__(self, url, token=None, get_token=None, timeout=10.0, session=None):
        super().__init__(url, token, get_token, timeout)
        self.session = session
        self._own_session = session is None

    async def _token(self, fresh=False):
        if (fresh or not self.token) and self.get_token:
            token = self.get_token()
            self.token = await token if inspect.isawaitable(token) else token
        return self.token

    async def _call(self, what, spec):
        import aiohttp
        method, path, params, body, parse = spec
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        for attempt in (0, 1):
            token = await self._token(fresh=attempt == 1)
            try:
                async with self.session.request(method, self.url + path, params=params, json=body,
                                                headers={'Authorization': 'Bearer ' + token}) as res:
                    status = res.status
                    try:
                        data = await res.json(content_type=None)
                    except ValueError:
                        data = None
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise QuantEnergxError('HTTP_ERROR', '{}: {}'.format(what, exc or type(exc).__name__), what) from exc
            if status < 400:
                return parse(data)
            err = _error(status, data, what)
            if err.code != 'TOKEN_EXPIRED' or not self.get_token or attempt == 1:
                raise err

    # ---- endpoints --------------------------------------------------------------------------

    async def place_order(self, commodity: str, side: str, quantity: float, price: Optional[float] = None,
                    order_type: Optional[str] = None, time_in_force: Optional[str] = None,
                    client_order_id: Optional[str] = None) -> Order:
        """``POST /api/v1/trading/orders``: a limit order with ``price``, a market order without."""
        return await self._call('place_order', _Endpoints.place_order(commodity, side, quantity, price, order_type,
                                                                 time_in_force, client_order_id))

    async def cancel_order(self, order_id: str) -> Order:
        return await self._call('cancel_order', _Endpoints.cancel_order(order_id))

    async def amend_order(self, order_id: str, price: Any = None, quantity: Optional[float] = None) -> Order:
        """``PATCH /api/v1/trading/orders/:id`` (cancel/replace); see :meth:`QuantEnergxRest.amend_order`."""
        return await self._call('amend_order', _Endpoints.amend_order(order_id, price, quantity))

    async def cancel_all(self, commodity: Optional[str] = None) -> List[Order]:
        return await self._call('cancel_all', _Endpoints.cancel_all(commodity))

    async def flatten(self, commodity: str) -> Order:
        return await self._call('flatten', _Endpoints.flatten(commodity))

    async def get_order(self, order_id: str) -> Order:
        return await self._call('get_order', _Endpoints.get_order(order_id))

    async def list_orders(self, status: Optional[str] = None, commodity: Optional[str] = None, limit: Optional[int] = None,
                    before: Optional[str] = None) -> OrderPage:
        """Newest first; ``status='open'`` for resting orders; ``before=page.next_cursor`` pages back."""
        return await self._call('list_orders', _Endpoints.list_orders(status, commodity, limit, before))

    async def trades(self, commodity: Optional[str] = None, limit: Optional[int] = None,
               before: Optional[str] = None) -> TradePage:
        """Your fills, newest first."""
        return await self._call('trades', _Endpoints.trades(commodity, limit, before))

    async def positions(self) -> List[Position]:
        return await self._call('positions', _Endpoints.positions())

    async def book(self, commodity: str, depth: Optional[int] = None) -> Book:
        return await self._call('book', _Endpoints.book(commodity, depth))

    async def candles(self, commodity: str, interval: str = '1m', start: Any = None, end: Any = None) -> List[Candle]:
        """``GET /api/v1/market/candles``: OHLC and volume per ``interval`` (1m, 5m, 15m, 1h, 1d)
        between ``start`` and ``end`` (datetimes, or values passed as they are)."""
        return await self._call('candles', _Endpoints.candles(commodity, interval, start, end))

    async def commodities(self) -> List[Dict[str, Any]]:
        return await self._call('commodities', _Endpoints.commodities())

    async def events(self, stream: str, after: int = 0, limit: Optional[int] = None) -> EventPage:
        """``GET /api/v1/events``: a private stream's (or ``system``'s) events after ``after``."""
        return await self._call('events', _Endpoints.events(stream, after, limit))

    async def close(self):
        if self.session is not None and self._own_session:
            await self.session.close()
        self.session = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()
