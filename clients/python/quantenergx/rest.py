"""REST helpers for what a quant does next: place, amend and cancel orders (one or all), flatten
a position, list orders and trades, read positions, the order book, candles, the commodity
catalogue and the event log. Thin: one method per endpoint, typed results (dataclasses with
snake_case fields; fields the gateway adds later land in ``extra``), errors as
:class:`QuantEnergxError` with the gateway's code and the HTTP status.

    api = QuantEnergxRest('http://localhost:3001', get_token=fetch_token)
    crude = api.commodity('crude_oil')
    order = api.place_order('crude_oil', 'buy', 10, price=crude.round_price(74.999))   # Decimal('75.00')
    api.cancel_order(order.id)

Prices are exact: ``Decimal``, ``int``, ``float`` (its shortest repr), a decimal string or a
numpy/pandas scalar, sent as a JSON number with exactly those digits; quantities are whole
numbers (numpy integers too). Placing and flattening are idempotent by ``client_order_id`` (one is
generated when none is given): a call answered by nothing (a timeout, an unreachable gateway,
``ENGINE_UNAVAILABLE``) is sent again with the same id (``retries``), so it never trades twice.

:class:`AsyncQuantEnergxRest` is the same on aiohttp, for asyncio code (every method is awaited).
"""

import asyncio
import dataclasses
import inspect
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, Generic, List, Optional, Tuple, Type, TypeVar, cast
from urllib.parse import quote

from ._core import QuantEnergxError, check_token, rest_origin, token_unavailable
from ._numbers import as_int, as_price, as_quantity, dumps
from .catalogue import Commodity

__all__ = ['QuantEnergxRest', 'AsyncQuantEnergxRest', 'Order', 'Trade', 'Position', 'Candle', 'BookLevel',
           'Book', 'OrderPage', 'TradePage', 'LoggedEvent', 'EventPage', 'CANDLE_INTERVALS', 'new_client_order_id']

CANDLE_INTERVALS = ('1m', '5m', '15m', '1h', '1d')
#: answers that say nothing about whether an order call took effect: it may be sent again, unchanged
UNANSWERED = frozenset({'REQUEST_TIMEOUT', 'HTTP_ERROR', 'ENGINE_UNAVAILABLE'})

D = TypeVar('D')
R = TypeVar('R')


def _snake(name: str) -> str:
    return re.sub(r'(?<!^)(?=[A-Z])', '_', name).lower()


def _build(cls: Type[D], data: Any) -> D:
    """A dataclass from a wire object: camelCase keys to snake_case fields, the rest in ``extra``."""
    if not isinstance(data, dict):
        raise QuantEnergxError('INVALID_RESPONSE', 'expected an object for {}, got {!r}'.format(cls.__name__, data))
    fields = dataclasses.fields(cast(Any, cls))
    names = {f.name for f in fields}
    known: Dict[str, Any] = {}
    extra: Dict[str, Any] = {}
    for key, value in data.items():
        name = _snake(key)
        if name in names and name != 'extra':
            known[name] = value
        else:
            extra[key] = value
    missing = [f.name for f in fields
               if f.name not in known and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise QuantEnergxError('INVALID_RESPONSE', '{} without {}'.format(cls.__name__, ', '.join(missing)))
    return cast(D, cast(Any, cls)(**known, extra=extra))


@dataclass
class Order:
    """An order as the gateway answers it (``order-update`` payload); ``average_price`` is None
    while nothing is filled, ``reason`` says why an order ended unfilled or was refused."""

    id: str
    user_id: str
    status: str                      # new, partially_filled, filled, cancelled, rejected, expired
    filled_quantity: int
    remaining_quantity: int
    average_price: Optional[float] = None
    commodity: Optional[str] = None
    side: Optional[str] = None       # buy, sell
    type: Optional[str] = None       # limit, market
    price: Optional[float] = None
    quantity: Optional[int] = None
    time_in_force: Optional[str] = None
    client_order_id: Optional[str] = None
    reason: Optional[str] = None
    timestamp: Optional[str] = None  # ISO-8601, last change
    created_at: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.filled_quantity:
            self.average_price = None  # the gateway writes 0 for "no fill yet"


@dataclass
class Trade:
    """One of your fills."""

    id: str
    order_id: str
    user_id: str
    commodity: str
    quantity: int
    price: float
    side: str
    status: str
    execution_time: str              # ISO-8601
    counterparty_order_id: Optional[str] = None
    liquidity: Optional[str] = None  # maker, taker
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Position:
    """Your net position in one commodity."""

    user_id: str
    commodity: str
    net_quantity: int                # long > 0, short < 0
    average_price: float
    realized_pnl: float
    open_buy_quantity: int
    open_sell_quantity: int
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Candle:
    """OHLC and volume of one interval."""

    time: Any                        # the bucket's start, as the gateway sends it
    open: float
    high: float
    low: float
    close: float
    volume: float
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class BookLevel:
    """One price level of a book."""

    price: float
    quantity: float
    orders: int = 0
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Book:
    """A book read over REST: levels best first."""

    commodity: str
    bids: List[BookLevel]
    asks: List[BookLevel]


@dataclass
class OrderPage:
    """A page of your orders, newest first."""

    orders: List[Order]
    next_cursor: Optional[str]       # pass as ``before`` for the next (older) page


@dataclass
class TradePage:
    """A page of your fills, newest first."""

    trades: List[Trade]
    next_cursor: Optional[str]


@dataclass
class LoggedEvent:
    """One event of the event log."""

    event: str
    seq: int
    envelope: Dict[str, Any]


@dataclass
class EventPage:
    """A page of a stream's event log."""

    stream: str
    after: int
    events: List[LoggedEvent]
    has_more: bool
    last_seq: int


def new_client_order_id(prefix: str = 'py') -> str:
    """A ``clientOrderId`` the gateway accepts (1-64 of ``A-Z a-z 0-9 _ . : -``), 96 random bits."""
    return '{}-{}'.format(prefix, uuid.uuid4().hex[:24])


def _time_param(value: Any) -> Any:
    """A time for a query: a datetime (a naive one is local time, as ``datetime.astimezone`` reads
    it) as ISO-8601 UTC; a date as its local midnight; anything else as it is."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')
    if isinstance(value, date):
        return _time_param(datetime(value.year, value.month, value.day))
    return value


def _params(**kwargs: Any) -> Dict[str, Any]:
    return {k: _time_param(v) for k, v in kwargs.items() if v is not None}


def _order_body(commodity: str, side: str, quantity: Any, price: Any, order_type: Optional[str],
                time_in_force: Optional[str], client_order_id: Optional[str]) -> Dict[str, Any]:
    order_type = order_type or ('market' if price is None else 'limit')
    body: Dict[str, Any] = {'commodity': commodity, 'side': side, 'type': order_type, 'quantity': as_quantity(quantity)}
    if price is not None:
        body['price'] = as_price(price)
    if time_in_force is not None:
        body['timeInForce'] = time_in_force
    body['clientOrderId'] = client_order_id if client_order_id is not None else new_client_order_id()
    return body


def _candles(body: Any) -> List[Candle]:
    rows = body.get('candles') if isinstance(body, dict) else body
    if not isinstance(rows, list):
        raise QuantEnergxError('INVALID_RESPONSE', 'no candles in the answer')
    return [_build(Candle, row) for row in rows]


def _book(body: Any) -> Book:
    return Book(body['commodity'], [_build(BookLevel, b) for b in body.get('bids', [])],
                [_build(BookLevel, a) for a in body.get('asks', [])])


def _event_page(body: Any) -> EventPage:
    return EventPage(body['stream'], body['after'], [LoggedEvent(e['event'], e['seq'], e['envelope']) for e in body['events']],
                     bool(body['hasMore']), body['lastSeq'])


def _order(body: Any) -> Order:
    return _build(Order, body['order'])


@dataclass(frozen=True)
class _Spec(Generic[R]):
    """One endpoint call: method, path, query, body, how to read the answer, and whether an
    unanswered call may be sent again unchanged."""

    method: str
    path: str
    params: Optional[Dict[str, Any]]
    body: Any
    parse: Callable[[Any], R]
    retry: bool = False
    #: codes whose answer carries the order as the result (an order that could not fill is an outcome, not an error)
    order_outcomes: Tuple[str, ...] = ()


class _Endpoints:
    """The endpoints as specs, shared by both clients."""

    @staticmethod
    def place_order(commodity: str, side: str, quantity: Any, price: Any = None, order_type: Optional[str] = None,
                    time_in_force: Optional[str] = None, client_order_id: Optional[str] = None) -> '_Spec[Order]':
        return _Spec('POST', '/api/v1/trading/orders', None,
                     _order_body(commodity, side, quantity, price, order_type, time_in_force, client_order_id), _order,
                     retry=True, order_outcomes=('NO_LIQUIDITY',))

    @staticmethod
    def cancel_order(order_id: str) -> '_Spec[Order]':
        return _Spec('DELETE', '/api/v1/trading/orders/' + quote(str(order_id), safe=''), None, None, _order, retry=True)

    @staticmethod
    def amend_order(order_id: str, price: Any = None, quantity: Any = None) -> '_Spec[Order]':
        body: Dict[str, Any] = {}
        if price is not None:
            body['price'] = as_price(price)
        if quantity is not None:
            body['quantity'] = as_quantity(quantity)
        if not body:
            raise QuantEnergxError('INVALID_ORDER', 'give a new price, a new quantity, or both', 'amend_order')
        return _Spec('PATCH', '/api/v1/trading/orders/' + quote(str(order_id), safe=''), None, body, _order, retry=True)

    @staticmethod
    def cancel_all(commodity: Optional[str] = None) -> '_Spec[List[Order]]':
        return _Spec('DELETE', '/api/v1/trading/orders', _params(commodity=commodity), None,
                     lambda b: [_build(Order, o) for o in b['cancelled']])

    @staticmethod
    def cancel_all_after(timeout_ms: Any) -> '_Spec[Dict[str, Any]]':
        return _Spec('POST', '/api/v1/trading/cancel-all-after', None, {'timeoutMs': as_int(timeout_ms, 'timeoutMs')},
                     lambda b: {'timeoutMs': b['timeoutMs'], 'firesAt': b.get('firesAt')}, retry=True)

    @staticmethod
    def market_status() -> '_Spec[List[Dict[str, Any]]]':
        return _Spec('GET', '/api/v1/market/status', None, None, lambda b: [dict(s) for s in b['statuses']])

    @staticmethod
    def flatten(commodity: str, client_order_id: Optional[str] = None) -> '_Spec[Order]':
        body = {'clientOrderId': client_order_id if client_order_id is not None else new_client_order_id('flat')}
        return _Spec('POST', '/api/v1/trading/positions/{}/flatten'.format(quote(commodity, safe='')), None, body, _order,
                     retry=True, order_outcomes=('NO_LIQUIDITY',))

    @staticmethod
    def get_order(order_id: str) -> '_Spec[Order]':
        return _Spec('GET', '/api/v1/trading/orders/' + quote(str(order_id), safe=''), None, None, _order)

    @staticmethod
    def list_orders(status: Optional[str] = None, commodity: Optional[str] = None, limit: Any = None,
                    before: Optional[str] = None) -> '_Spec[OrderPage]':
        return _Spec('GET', '/api/v1/trading/orders', _params(status=status, commodity=commodity, limit=_opt_int(limit, 'limit'),
                                                               before=before), None,
                     lambda b: OrderPage([_build(Order, o) for o in b['orders']], b.get('nextCursor')))

    @staticmethod
    def trades(commodity: Optional[str] = None, limit: Any = None, before: Optional[str] = None) -> '_Spec[TradePage]':
        return _Spec('GET', '/api/v1/trading/trades', _params(commodity=commodity, limit=_opt_int(limit, 'limit'), before=before),
                     None, lambda b: TradePage([_build(Trade, t) for t in b['trades']], b.get('nextCursor')))

    @staticmethod
    def positions() -> '_Spec[List[Position]]':
        return _Spec('GET', '/api/v1/trading/positions', None, None, lambda b: [_build(Position, p) for p in b['positions']])

    @staticmethod
    def book(commodity: str, depth: Any = None) -> '_Spec[Book]':
        return _Spec('GET', '/api/v1/market/{}/book'.format(quote(commodity, safe='')), _params(depth=_opt_int(depth, 'depth')),
                     None, _book)

    @staticmethod
    def candles(commodity: str, interval: str = '1m', start: Any = None, end: Any = None, limit: Any = None) -> '_Spec[List[Candle]]':
        if interval not in CANDLE_INTERVALS:
            raise QuantEnergxError('INVALID_PAYLOAD', 'interval must be one of {}'.format(', '.join(CANDLE_INTERVALS)),
                                   'candles', 'interval')
        return _Spec('GET', '/api/v1/market/candles', _params(commodity=commodity, interval=interval, limit=_opt_int(limit, 'limit'),
                                                              **{'from': start, 'to': end}), None, _candles)

    @staticmethod
    def commodities() -> '_Spec[List[Commodity]]':
        return _Spec('GET', '/api/v1/market/commodities', None, None,
                     lambda b: [Commodity.from_wire(c) for c in b['commodities']])

    @staticmethod
    def events(stream: str, after: Any = 0, limit: Any = None) -> '_Spec[EventPage]':
        return _Spec('GET', '/api/v1/events', _params(stream=stream, after=as_int(after, 'after'), limit=_opt_int(limit, 'limit')),
                     None, _event_page)


def _opt_int(value: Any, name: str) -> Optional[int]:
    return None if value is None else as_int(value, name)


def _error(status: int, body: Any, what: str, retry_after: Optional[str]) -> QuantEnergxError:
    error = body.get('error') if isinstance(body, dict) else None
    wait = float(retry_after) if retry_after and retry_after.replace('.', '', 1).isdigit() else None
    if isinstance(error, dict):
        err = QuantEnergxError.from_wire(error, what, status, wait)
    else:
        err = QuantEnergxError('HTTP_ERROR', 'HTTP {}'.format(status), what, status=status, retry_after=wait)
    err.body = body
    if isinstance(body, dict) and isinstance(body.get('order'), dict):
        try:
            err.order = _build(Order, body['order'])
        except QuantEnergxError:
            err.order = None
    return err


def _outcome(spec: '_Spec[Any]', err: QuantEnergxError, retried: bool) -> Optional[Order]:
    """The order an error answer stands for as the call's result, if it does: an order that could
    not fill (FOK, IOC, market without liquidity), or a cancel retried after it went through."""
    if isinstance(err.order, Order):
        if err.code in spec.order_outcomes:
            return err.order
        if retried and spec.method == 'DELETE' and err.code == 'ORDER_NOT_CANCELLABLE' and err.order.status == 'cancelled':
            return err.order
    return None


def _may_retry(spec: '_Spec[Any]', err: QuantEnergxError, attempt: int, retries: int) -> bool:
    """Whether a call answered by ``err`` is sent again, unchanged: only one the gateway did not answer
    (an HTTP error below 500 is an answer, a proxy's 404 say), and only ``retries`` times."""
    return (spec.retry and err.code in UNANSWERED and attempt < retries
            and (err.code != 'HTTP_ERROR' or err.status is None or err.status >= 500))


def _retry_pause(attempt: int) -> float:
    """Seconds to wait before sending an unanswered call again (not after a timeout: time has passed)."""
    return min(0.25 * 2.0 ** attempt, 2.0)


class _Base:
    def __init__(self, url: str, token: Optional[str] = None, get_token: Optional[Callable[[], Any]] = None,
                 timeout: float = 10.0, retries: int = 2) -> None:
        if not token and get_token is None:
            raise QuantEnergxError('TOKEN_UNAVAILABLE', '{} needs a token or get_token'.format(type(self).__name__))
        self.url = rest_origin(url)
        self.token = token
        self.get_token = get_token
        self.timeout = timeout
        self.retries = retries
        self._catalogue: Dict[str, Commodity] = {}

    def _pick(self, symbol: str, catalogue: List[Commodity]) -> Commodity:
        self._catalogue = {c.symbol: c for c in catalogue}
        if symbol not in self._catalogue:
            raise QuantEnergxError('UNKNOWN_COMMODITY', 'Unknown commodity: {}'.format(symbol), 'commodity', 'commodity')
        return self._catalogue[symbol]


class QuantEnergxRest(_Base):
    """The REST API with ``requests``. ``token`` or ``get_token`` (a callable returning a JWT;
    called again once when the gateway answers TOKEN_EXPIRED; whatever it raises is
    ``TOKEN_UNAVAILABLE``, with the cause). ``retries``: times an unanswered order call is sent
    again with the same ``client_order_id``. Use ``with QuantEnergxRest(...) as api:`` or ``close()``."""

    def __init__(self, url: str, token: Optional[str] = None, get_token: Optional[Callable[[], str]] = None,
                 timeout: float = 10.0, session: Any = None, retries: int = 2) -> None:
        super().__init__(url, token, get_token, timeout, retries)
        import requests
        self._requests = requests
        self.session: Any = session or requests.Session()

    def _token(self, fresh: bool = False) -> str:
        if (fresh or not self.token) and self.get_token is not None:
            try:
                token = self.get_token()
            except Exception as exc:
                raise token_unavailable(exc) from exc
            self.token = check_token(token)
        if not self.token:
            raise QuantEnergxError('TOKEN_UNAVAILABLE', 'no token')
        return self.token

    def _call(self, what: str, spec: '_Spec[R]') -> R:
        data = None if spec.body is None else dumps(spec.body)
        fresh = False
        attempt = 0
        while True:
            token = self._token(fresh)
            headers = {'Authorization': 'Bearer ' + token}
            if data is not None:
                headers['Content-Type'] = 'application/json'
            try:
                res = self.session.request(spec.method, self.url + spec.path, params=spec.params, data=data,
                                           timeout=self.timeout, headers=headers)
            except self._requests.Timeout as exc:
                err = QuantEnergxError('REQUEST_TIMEOUT', '{}: no answer within {} s'.format(what, self.timeout), what)
                err.__cause__ = exc
            except self._requests.RequestException as exc:
                err = QuantEnergxError('HTTP_ERROR', '{}: gateway unreachable: {}'.format(what, exc), what)
                err.__cause__ = exc
            else:
                try:
                    body = res.json()
                except ValueError:
                    body = None
                if res.status_code < 400:
                    return spec.parse(body)
                err = _error(res.status_code, body, what, res.headers.get('Retry-After'))
                outcome = _outcome(spec, err, attempt > 0)
                if outcome is not None:
                    return cast(R, outcome)
                if err.code == 'TOKEN_EXPIRED' and self.get_token is not None and not fresh:
                    fresh = True
                    continue
            if not _may_retry(spec, err, attempt, self.retries):
                raise err
            attempt += 1
            if err.code != 'REQUEST_TIMEOUT':
                time.sleep(_retry_pause(attempt))

    # ---- endpoints --------------------------------------------------------------------------

    def place_order(self, commodity: str, side: str, quantity: Any, price: Any = None, order_type: Optional[str] = None,
                    time_in_force: Optional[str] = None, client_order_id: Optional[str] = None) -> Order:
        """``POST /api/v1/trading/orders``: a limit order with ``price``, a market order without.
        ``price`` exact (Decimal, int, float, decimal string, numpy scalar), ``quantity`` whole.
        Returns the order; one that could not fill (FOK, IOC, market without liquidity) comes back
        with status ``cancelled`` or ``rejected`` and its ``reason``; a refusal raises
        (``PRICE_OFF_TICK``, ``PRICE_OUT_OF_BAND`` naming ``price``, ``COMPLIANCE_REJECTED``, ...)."""
        return self._call('place_order', _Endpoints.place_order(commodity, side, quantity, price, order_type,
                                                                 time_in_force, client_order_id))

    def cancel_order(self, order_id: str) -> Order:
        """``DELETE /api/v1/trading/orders/:id``: the cancelled order."""
        return self._call('cancel_order', _Endpoints.cancel_order(order_id))

    def amend_order(self, order_id: str, price: Any = None, quantity: Any = None) -> Order:
        """``PATCH /api/v1/trading/orders/:id`` (cancel/replace): a new price (exact, as for
        :meth:`place_order`) and/or a new total quantity (above the filled). A decrease keeps time
        priority; a price change or an increase loses it; a crossing price trades at once."""
        return self._call('amend_order', _Endpoints.amend_order(order_id, price, quantity))

    def cancel_all(self, commodity: Optional[str] = None) -> List[Order]:
        """``DELETE /api/v1/trading/orders``: cancels your open orders (of ``commodity``); returns them."""
        return self._call('cancel_all', _Endpoints.cancel_all(commodity))

    def cancel_all_after(self, timeout_ms: int) -> Dict[str, Any]:
        """``POST /api/v1/trading/cancel-all-after``, the dead-man's switch: unless called again within
        ``timeout_ms`` (1 000-86 400 000), all your open orders are cancelled; ``0`` disarms. Returns
        ``{'timeoutMs', 'firesAt'}`` (ISO-8601, None once disarmed)."""
        return self._call('cancel_all_after', _Endpoints.cancel_all_after(timeout_ms))

    def market_status(self) -> List[Dict[str, Any]]:
        """``GET /api/v1/market/status``: every commodity's status, ``{commodity, status ('open',
        'halted', 'closed'), reason, since, until?, seq}``."""
        return self._call('market_status', _Endpoints.market_status())

    def flatten(self, commodity: str, client_order_id: Optional[str] = None) -> Order:
        """``POST /api/v1/trading/positions/:commodity/flatten``: a market order closing your net
        position (``NO_POSITION`` when flat); idempotent by ``client_order_id`` like :meth:`place_order`."""
        return self._call('flatten', _Endpoints.flatten(commodity, client_order_id))

    def get_order(self, order_id: str) -> Order:
        """``GET /api/v1/trading/orders/:id``."""
        return self._call('get_order', _Endpoints.get_order(order_id))

    def list_orders(self, status: Optional[str] = None, commodity: Optional[str] = None, limit: Optional[int] = None,
                    before: Optional[str] = None) -> OrderPage:
        """Newest first; ``status='open'`` for resting orders; ``before=page.next_cursor`` pages back."""
        return self._call('list_orders', _Endpoints.list_orders(status, commodity, limit, before))

    def trades(self, commodity: Optional[str] = None, limit: Optional[int] = None, before: Optional[str] = None) -> TradePage:
        """Your fills, newest first."""
        return self._call('trades', _Endpoints.trades(commodity, limit, before))

    def positions(self) -> List[Position]:
        """Your positions."""
        return self._call('positions', _Endpoints.positions())

    def book(self, commodity: str, depth: Optional[int] = None) -> Book:
        """``GET /api/v1/market/:commodity/book``: the top ``depth`` levels."""
        return self._call('book', _Endpoints.book(commodity, depth))

    def candles(self, commodity: str, interval: str = '1m', start: Any = None, end: Any = None,
                limit: Optional[int] = None) -> List[Candle]:
        """``GET /api/v1/market/candles``: OHLC and volume per ``interval`` (1m, 5m, 15m, 1h, 1d)
        between ``start`` and ``end`` (datetimes: a naive one is local time; or ms since the epoch,
        or ISO-8601 strings), the latest ``limit`` (1-1000) of the range, oldest first."""
        return self._call('candles', _Endpoints.candles(commodity, interval, start, end, limit))

    def commodities(self) -> List[Commodity]:
        """The commodity catalogue, as :class:`~quantenergx.catalogue.Commodity` objects (exact ticks)."""
        catalogue = self._call('commodities', _Endpoints.commodities())
        self._catalogue = {c.symbol: c for c in catalogue}
        return catalogue

    def commodity(self, symbol: str) -> Commodity:
        """One commodity of the catalogue (read once, then kept): its tick size, ``round_price()``, limits."""
        if symbol in self._catalogue:
            return self._catalogue[symbol]
        return self._pick(symbol, self.commodities())

    def events(self, stream: str, after: int = 0, limit: Optional[int] = None) -> EventPage:
        """``GET /api/v1/events``: a private stream's (or ``system``'s) events after ``after``."""
        return self._call('events', _Endpoints.events(stream, after, limit))

    def close(self) -> None:
        """Closes the HTTP session."""
        self.session.close()

    def __enter__(self) -> 'QuantEnergxRest':
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncQuantEnergxRest(_Base):
    """The same API on aiohttp; every method is a coroutine. ``get_token`` may be a plain function
    or a coroutine function. Use ``async with AsyncQuantEnergxRest(...) as api:`` or ``await
    api.close()``."""

    def __init__(self, url: str, token: Optional[str] = None, get_token: Optional[Callable[[], Any]] = None,
                 timeout: float = 10.0, session: Any = None, retries: int = 2) -> None:
        super().__init__(url, token, get_token, timeout, retries)
        self.session: Any = session
        self._own_session = session is None

    async def _token(self, fresh: bool = False) -> str:
        if (fresh or not self.token) and self.get_token is not None:
            try:
                token = self.get_token()
                if inspect.isawaitable(token):
                    token = await token
            except Exception as exc:
                raise token_unavailable(exc) from exc
            self.token = check_token(token)
        if not self.token:
            raise QuantEnergxError('TOKEN_UNAVAILABLE', 'no token')
        return self.token

    async def _call(self, what: str, spec: '_Spec[R]') -> R:
        import aiohttp
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        data = None if spec.body is None else dumps(spec.body)
        fresh = False
        attempt = 0
        while True:
            token = await self._token(fresh)
            headers = {'Authorization': 'Bearer ' + token}
            if data is not None:
                headers['Content-Type'] = 'application/json'
            try:
                async with self.session.request(spec.method, self.url + spec.path, params=spec.params, data=data,
                                                headers=headers) as res:
                    status = res.status
                    retry_after = res.headers.get('Retry-After')
                    try:
                        body = await res.json(content_type=None)
                    except ValueError:
                        body = None
            except asyncio.TimeoutError as exc:
                err = QuantEnergxError('REQUEST_TIMEOUT', '{}: no answer within {} s'.format(what, self.timeout), what)
                err.__cause__ = exc
            except aiohttp.ClientError as exc:
                err = QuantEnergxError('HTTP_ERROR', '{}: gateway unreachable: {}'.format(what, exc or type(exc).__name__), what)
                err.__cause__ = exc
            else:
                if status < 400:
                    return spec.parse(body)
                err = _error(status, body, what, retry_after)
                outcome = _outcome(spec, err, attempt > 0)
                if outcome is not None:
                    return cast(R, outcome)
                if err.code == 'TOKEN_EXPIRED' and self.get_token is not None and not fresh:
                    fresh = True
                    continue
            if not _may_retry(spec, err, attempt, self.retries):
                raise err
            attempt += 1
            if err.code != 'REQUEST_TIMEOUT':
                await asyncio.sleep(_retry_pause(attempt))

    # ---- endpoints --------------------------------------------------------------------------

    async def place_order(self, commodity: str, side: str, quantity: Any, price: Any = None,
                          order_type: Optional[str] = None, time_in_force: Optional[str] = None,
                          client_order_id: Optional[str] = None) -> Order:
        """``POST /api/v1/trading/orders``; see :meth:`QuantEnergxRest.place_order`."""
        return await self._call('place_order', _Endpoints.place_order(commodity, side, quantity, price, order_type,
                                                                       time_in_force, client_order_id))

    async def cancel_order(self, order_id: str) -> Order:
        """``DELETE /api/v1/trading/orders/:id``: the cancelled order."""
        return await self._call('cancel_order', _Endpoints.cancel_order(order_id))

    async def amend_order(self, order_id: str, price: Any = None, quantity: Any = None) -> Order:
        """``PATCH /api/v1/trading/orders/:id`` (cancel/replace); see :meth:`QuantEnergxRest.amend_order`."""
        return await self._call('amend_order', _Endpoints.amend_order(order_id, price, quantity))

    async def cancel_all(self, commodity: Optional[str] = None) -> List[Order]:
        """``DELETE /api/v1/trading/orders``: cancels your open orders (of ``commodity``); returns them."""
        return await self._call('cancel_all', _Endpoints.cancel_all(commodity))

    async def cancel_all_after(self, timeout_ms: int) -> Dict[str, Any]:
        """``POST /api/v1/trading/cancel-all-after``; see :meth:`QuantEnergxRest.cancel_all_after`."""
        return await self._call('cancel_all_after', _Endpoints.cancel_all_after(timeout_ms))

    async def market_status(self) -> List[Dict[str, Any]]:
        """``GET /api/v1/market/status``: every commodity's status (open, halted, closed)."""
        return await self._call('market_status', _Endpoints.market_status())

    async def flatten(self, commodity: str, client_order_id: Optional[str] = None) -> Order:
        """``POST /api/v1/trading/positions/:commodity/flatten``; see :meth:`QuantEnergxRest.flatten`."""
        return await self._call('flatten', _Endpoints.flatten(commodity, client_order_id))

    async def get_order(self, order_id: str) -> Order:
        """``GET /api/v1/trading/orders/:id``."""
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
        """Your positions."""
        return await self._call('positions', _Endpoints.positions())

    async def book(self, commodity: str, depth: Optional[int] = None) -> Book:
        """``GET /api/v1/market/:commodity/book``: the top ``depth`` levels."""
        return await self._call('book', _Endpoints.book(commodity, depth))

    async def candles(self, commodity: str, interval: str = '1m', start: Any = None, end: Any = None,
                      limit: Optional[int] = None) -> List[Candle]:
        """``GET /api/v1/market/candles``; see :meth:`QuantEnergxRest.candles`."""
        return await self._call('candles', _Endpoints.candles(commodity, interval, start, end, limit))

    async def commodities(self) -> List[Commodity]:
        """The commodity catalogue, as :class:`~quantenergx.catalogue.Commodity` objects."""
        catalogue = await self._call('commodities', _Endpoints.commodities())
        self._catalogue = {c.symbol: c for c in catalogue}
        return catalogue

    async def commodity(self, symbol: str) -> Commodity:
        """One commodity of the catalogue (read once, then kept)."""
        if symbol in self._catalogue:
            return self._catalogue[symbol]
        return self._pick(symbol, await self.commodities())

    async def events(self, stream: str, after: int = 0, limit: Optional[int] = None) -> EventPage:
        """``GET /api/v1/events``: a private stream's (or ``system``'s) events after ``after``."""
        return await self._call('events', _Endpoints.events(stream, after, limit))

    async def close(self) -> None:
        """Closes the HTTP session (when the client made it)."""
        if self.session is not None and self._own_session:
            await self.session.close()
        self.session = None

    async def __aenter__(self) -> 'AsyncQuantEnergxRest':
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

