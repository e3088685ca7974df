"""The threaded client: :class:`QuantEnergxWebSocket`, the seed's Python client done right, on
python-socketio (5.x).

    ws = QuantEnergxWebSocket('http://localhost:3001', 'user-123', get_token=fetch_token)
    ws.on('market-update', lambda envelope: print(envelope['payload']))
    ws.connect()                                   # connects and authenticates
    ws.subscribe_to_market_data(['crude_oil', 'natural_gas'])
    with ws.events('order-update') as updates:     # events from now on, read in your own thread
        ...
        envelope = updates.get(timeout=5)

What it adds to the seed: hyphenated events are really listened to (``auth-success``, not
``auth_success``); requests use acknowledgements and raise ``QuantEnergxError`` with the gateway's
code; every (re)connect authenticates again, re-subscribes and resumes each private stream from its
last sequence number, so no order, trade or alert is lost; duplicates are dropped and out-of-order
events held until the missing ones arrive; an expired or refused token is replaced through
``get_token``. python-socketio runs each incoming message on its own thread: the client keeps its
state behind a lock and calls the handlers from one thread of its own, one at a time, in order.
"""

import logging
import queue
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, TypeVar, Union

import requests
import socketio

from ._core import FATAL_AUTH_CODES, RETRY_CODES, QuantEnergxError, ack_body, connect_error, refresh_delay, request_error, token_unavailable
from ._session import (PRIVATE_REQUESTS, SOCKET_UNUSABLE, ClientCore, DeadManCore, OrderCall, cancel_on_disconnect_payload,
                       commodity_list, new_lock)
from .rest import Order, QuantEnergxRest, _Endpoints, _may_retry, _retry_pause

__all__ = ['QuantEnergxWebSocket', 'QuantEnergxError', 'Event', 'EventStream', 'DeadManSwitch']

R = TypeVar('R')

logger = logging.getLogger('quantenergx')

_STOP = ('', ())


@dataclass(frozen=True)
class Event:
    """One event of an :meth:`QuantEnergxWebSocket.events` stream: its name and what a handler
    would get (the envelope for the data events; a tuple when there are several values)."""

    name: str
    data: Any


def _event(item: Tuple[str, Tuple[Any, ...]]) -> Event:
    name, args = item
    return Event(name, args[0] if len(args) == 1 else (args or None))


class EventStream:
    """Events as they arrive from the moment the stream was opened, whatever the handlers do:
    ``get(timeout)`` or iterate. Opened with ``with ws.events(...) as stream``."""

    def __init__(self) -> None:
        self._queue: 'queue.Queue[Tuple[str, Tuple[Any, ...]]]' = queue.Queue()

    def get(self, timeout: Optional[float] = None) -> Event:
        """The next event; ``REQUEST_TIMEOUT`` when none came within ``timeout`` seconds."""
        try:
            return _event(self._queue.get(timeout=timeout))
        except queue.Empty:
            raise QuantEnergxError('REQUEST_TIMEOUT', 'no event within {} s'.format(timeout)) from None

    def __iter__(self) -> Iterator[Event]:
        while True:
            yield self.get()


def connect_failed(url: str, attempts: int, exc: BaseException) -> QuantEnergxError:
    """The gateway could not be reached: CONNECT_FAILED, with the cause."""
    err = QuantEnergxError('CONNECT_FAILED', 'could not reach the gateway at {} ({} attempt{}): {}'.format(
        url, attempts, '' if attempts == 1 else 's', exc))
    err.__cause__ = exc
    return err


class QuantEnergxWebSocket(ClientCore):
    """A QuantEnergx Realtime client (threads). Handlers are set with ``on(event, fn)``; a subclass
    may override the seed's ``handle_market_update``, ``handle_trade_update``,
    ``handle_order_update``, ``handle_system_alert`` (and ``handle_compliance_alert``).

    Events: the data events (``market-update``, ``trade-update``, ``order-update``,
    ``system-alert``, ``compliance-alert``; each handler gets the envelope), ``connect``,
    ``disconnect`` (the gateway's notice or None), ``auth-success``, ``auth-error`` and
    ``request-error`` (a QuantEnergxError), ``disconnect-reason`` (the gateway's notice),
    ``stream-gap`` (stream, first, last: events the gateway no longer holds), ``book`` (a
    :class:`~quantenergx.book.BookView`), ``book-resync`` (commodity, reason), ``market-trade``
    (one trade of the tape), ``market-status`` (a commodity's status: open, halted, closed),
    ``error`` (anything that failed in the background).

    Order calls (:meth:`place_order`, :meth:`cancel_order`, :meth:`amend_order`, :meth:`cancel_all`,
    :meth:`cancel_all_after`) travel over the socket while it is authenticated, over REST otherwise,
    and return what the REST client returns; an unanswered call is sent again unchanged (the same
    ``client_order_id``) up to ``order_retries`` times, whichever way each attempt goes.

    Handlers run one at a time, in order, on one thread of the client's: a handler that waits for
    the *next* event through another handler waits forever (that handler runs after it returns);
    read ``ws.events(...)`` or ``ws.wait_for(...)`` instead, which see events as they arrive.
    """

    def __init__(self, url: str, user_id: str, token: Optional[str] = None,
                 get_token: Optional[Callable[[], str]] = None, request_timeout: float = 10.0,
                 reconnection_delay: float = 0.5, reconnection_delay_max: float = 10.0, gap_grace: float = 0.3,
                 gap_timeout: float = 3.0, refresh_lead: float = 30.0, refresh_before_expiry: bool = True,
                 rest_url: Optional[str] = None, order_retries: int = 2) -> None:
        super().__init__(url, user_id, token, get_token, request_timeout, reconnection_delay, reconnection_delay_max,
                         gap_grace, gap_timeout, refresh_lead, refresh_before_expiry, rest_url, order_retries)
        self._lock = new_lock()
        #: clear while cancel-on-disconnect is being (re)applied: socket orders wait for it
        self._safety_ready = threading.Event()
        self._safety_ready.set()
        self._rest_api: Optional[QuantEnergxRest] = None
        self._dead_man: Optional['DeadManSwitch'] = None
        # exponential backoff with jitter between reconnection attempts, forever
        self.sio = socketio.Client(reconnection=True, reconnection_attempts=0, reconnection_delay=reconnection_delay,
                                   reconnection_delay_max=reconnection_delay_max, randomization_factor=0.5)
        self._authenticated = threading.Event()
        #: set once the first authentication succeeded or was refused for good
        self._settled = threading.Event()
        self._gap_timers: Dict[str, threading.Timer] = {}
        self._refresh_timer: Optional[threading.Timer] = None
        self._refreshing = threading.Lock()
        self._handler_queue: 'queue.Queue[Tuple[str, Tuple[Any, ...]]]' = queue.Queue()
        self._dispatcher: Optional[threading.Thread] = None
        self._install()
        self.setup_handlers()

    # ---- handlers and event streams ---------------------------------------------------------

    def _install(self) -> None:
        sio = self.sio
        sio.on('connect', self._on_connect)
        sio.on('disconnect', self._on_disconnect)
        sio.on('connect_error', lambda data=None: self._emit('error', connect_error(data)))
        # hyphenated events need sio.on(): @sio.event would listen for auth_success
        sio.on('auth-success', lambda data: self._emit('auth-success', data))
        sio.on('auth-error', self._on_auth_error)
        sio.on('request-error', lambda data: self._emit('request-error', request_error(data)))
        sio.on('disconnect-reason', self._on_disconnect_reason)
        sio.on('market-update', self._on_market_update)
        for event in ('trade-update', 'order-update', 'system-alert', 'compliance-alert'):
            sio.on(event, lambda envelope, event=event: self._on_private_event(event, envelope))
        sio.on('book-snapshot', self._on_book_snapshot)
        sio.on('book-update', self._on_book_delta)
        sio.on('market-trade', self._on_market_trade)
        sio.on('market-status', self._on_market_status)

    def _queue_for_handlers(self, event: str, args: Tuple[Any, ...]) -> None:
        self._handler_queue.put((event, args))

    def _start_dispatcher(self) -> None:
        if self._dispatcher is None or not self._dispatcher.is_alive():
            self._dispatcher = threading.Thread(target=self._dispatch, name='quantenergx-handlers', daemon=True)
            self._dispatcher.start()

    def _stop_dispatcher(self) -> None:
        dispatcher = self._dispatcher
        if dispatcher is None or not dispatcher.is_alive():
            return
        self._handler_queue.put(_STOP)
        if dispatcher is not threading.current_thread():  # called from a handler: it stops after it
            dispatcher.join(5)
        self._dispatcher = None

    def _dispatch(self) -> None:
        while True:
            item = self._handler_queue.get()
            if item is _STOP:
                return
            event, args = item
            for handler in self._handlers_for(event):
                try:
                    handler(*args)
                except Exception as exc:  # a handler's bug must not break the client
                    logger.exception('%s handler failed', event)
                    if event != 'error':
                        self._emit('error', exc)

    @contextmanager
    def events(self, *events: str) -> Iterator[EventStream]:
        """A stream of these events (all when none is named) from now on, read in your own thread:
        ``with ws.events('order-update') as updates: updates.get(timeout=5)``. It sees each event
        as it arrives, whatever the handlers are doing. Unknown names are refused."""
        names = self._check_events(events)
        stream = EventStream()
        self._add_sink(names, stream._queue)
        try:
            yield stream
        finally:
            self._remove_sink(stream._queue)

    def wait_for(self, event: str, predicate: Optional[Callable[..., bool]] = None, timeout: float = 10.0) -> Any:
        """The next ``event`` (from now on) for which ``predicate`` holds: what a handler would get.
        ``REQUEST_TIMEOUT`` after ``timeout`` seconds. Subscribe with :meth:`events` before
        acting when the event may come at once."""
        deadline = time.monotonic() + timeout
        with self.events(event) as stream:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise QuantEnergxError('REQUEST_TIMEOUT', 'no {} within {} s'.format(event, timeout), event)
                item = stream.get(remaining)
                args = item.data if isinstance(item.data, tuple) else (item.data,)
                if predicate is None or predicate(*args):
                    return item.data

    # ---- connection ------------------------------------------------------------------------

    def connect(self, wait: bool = True, timeout: float = 10.0, retries: int = 0) -> 'QuantEnergxWebSocket':
        """Connects (WebSocket first) and, with ``wait``, returns once authenticated. Raises at once
        ``TOKEN_UNAVAILABLE`` (with the cause) when no token can be had, the refusal
        (``INVALID_TOKEN``, ...) when the credentials are refused (after one fresh token from
        ``get_token``), ``CONNECT_FAILED`` when the gateway cannot be reached after ``retries``
        more attempts (exponential backoff from ``reconnection_delay``), ``REQUEST_TIMEOUT`` when
        not authenticated within ``timeout`` seconds."""
        if self.sio.connected:
            return self
        self._closed = False
        self._failure = None
        self._settled.clear()
        self._current_token()  # no token: raise now, in the caller's thread
        self._start_dispatcher()
        attempt = 0
        while True:
            try:
                self.sio.connect(self.url, transports=['websocket', 'polling'], wait_timeout=timeout)
                break
            except socketio.exceptions.ConnectionError as exc:
                attempt += 1
                if attempt > retries:
                    self._stop_dispatcher()
                    raise connect_failed(self.url, attempt, exc) from exc
                delay = min(self.reconnection_delay * 2 ** (attempt - 1), self.reconnection_delay_max)
                logger.info('could not reach %s (%s); trying again in %.1f s (%d of %d)', self.url, exc, delay, attempt, retries)
                time.sleep(delay)
        if wait:
            if not self._settled.wait(timeout):
                raise QuantEnergxError('REQUEST_TIMEOUT', 'not authenticated within {} s'.format(timeout), 'authenticate')
            if self._failure is not None:
                raise self._failure
        return self

    def wait_authenticated(self, timeout: Optional[float] = None) -> bool:
        """True once authenticated; False after ``timeout`` seconds."""
        return self._authenticated.wait(timeout)

    @property
    def connected(self) -> bool:
        """Whether the socket is connected."""
        return bool(self.sio.connected)

    @property
    def authenticated(self) -> bool:
        """Connected and authenticated."""
        return bool(self.sio.connected) and self._authenticated.is_set()

    def disconnect(self) -> None:
        """Disconnects for good; the handlers have seen every event received before it returns
        (unless it is called from a handler)."""
        self._closed = True
        with self._lock:
            for timer in self._gap_timers.values():
                timer.cancel()
            self._gap_timers.clear()
            if self._refresh_timer:
                self._refresh_timer.cancel()
            dead_man, self._dead_man = self._dead_man, None
        if dead_man is not None:
            dead_man._halt()  # nothing can be sent any more: the last deadline stands
        # python-socketio 5.7's disconnect() leaves a reconnection that is waiting to run: stop it
        abort = getattr(self.sio, '_reconnect_abort', None)
        if abort is not None:
            abort.set()
        self.sio.disconnect()
        self._authenticated.clear()
        self._stop_dispatcher()
        if self._rest_api is not None:
            self._rest_api.close()

    def __enter__(self) -> 'QuantEnergxWebSocket':
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    def _on_connect(self) -> None:
        with self._lock:
            self._session += 1
            session = self._session
            self.stats['sessions'] += 1
        if session > 1:
            logger.info('reconnected to %s (session %d): authenticating, subscribing again, resuming', self.url, session)
        self._authenticated.clear()
        self._emit('connect')
        # not on this thread: it must return for python-socketio to finish connecting
        self.sio.start_background_task(self._start_session, session)

    def _on_disconnect(self) -> None:
        self._authenticated.clear()
        notice = self._take_notice()
        if not self._closed:
            logger.info('disconnected from %s%s; reconnecting', self.url, ' ({})'.format(notice.get('code')) if notice else '')
        self._emit('disconnect', notice)

    def _start_session(self, session: int) -> None:
        """Every connection is a new session: authenticate, ask for cancel-on-disconnect again (before
        any order of the session goes out over it), subscribe again, resume every stream."""
        if self._cod_scope != 'off':
            self._safety_ready.clear()
        try:
            try:
                self._sign_in()
            except QuantEnergxError as err:
                return self._auth_failed(err) if err.code in FATAL_AUTH_CODES or err.code == 'TOKEN_EXPIRED' else self._emit('error', err)
            self._restore_safety(session)
        finally:
            self._safety_ready.set()
        plan = self._restore_plan()
        for event, payload, refused in plan:
            if session != self._session or not self.sio.connected:
                return
            try:
                self._call(event, payload)
            except QuantEnergxError as err:
                refused(err)
        self._restored(plan)
        dead_man = self._dead_man
        if dead_man is not None:
            dead_man.rearm_now()
        try:
            self._resume()
        except QuantEnergxError as err:
            if session == self._session:
                self._emit('error', err)

    def _restore_safety(self, session: int) -> None:
        """A new session starts without cancel-on-disconnect (it belongs to a connection): ask again."""
        scope = self._cod_scope
        if scope == 'off':
            return
        try:
            self._call('cancel-on-disconnect', {'scope': scope})
        except QuantEnergxError as err:
            if session == self._session:
                self._emit('error', err)

    def _sign_in(self) -> None:
        """``authenticate``; a refused or expired token is replaced once through ``get_token``."""
        try:
            self.authenticate()
        except QuantEnergxError as err:
            if err.code not in ('TOKEN_EXPIRED', 'INVALID_TOKEN') or self.get_token is None:
                raise
            self.token = None
            try:
                self.authenticate()
            except QuantEnergxError as again:
                raise QuantEnergxError(again.code, '{} (refused again with a fresh token from get_token)'.format(again.message),
                                       again.event, again.field) from again

    def _auth_failed(self, err: QuantEnergxError) -> None:
        self._failure = err
        self._settled.set()
        self._emit('error', err)
        self._closed = True
        self.sio.disconnect()

    def authenticate(self) -> Dict[str, Any]:
        """The seed's ``authenticate`` event; returns the ``auth-success`` payload."""
        body = self._call('authenticate', {'userId': self.user_id, 'token': self._current_token()})
        self._authenticated.set()
        self._settled.set()
        self._schedule_refresh(body.get('expiresAt'))
        return body

    def _current_token(self) -> str:
        held = self._held_token()
        return held if held is not None else self._fetch_token()

    def _fetch_token(self) -> str:
        if self.get_token is None:
            raise QuantEnergxError('TOKEN_UNAVAILABLE', 'no get_token to ask for a token')
        try:
            token = self.get_token()
        except Exception as exc:
            raise token_unavailable(exc) from exc
        if hasattr(token, '__await__'):
            getattr(token, 'close', lambda: None)()
            raise QuantEnergxError('TOKEN_UNAVAILABLE', 'get_token returned an awaitable: the threaded client needs a plain '
                                                        'function (or use AsyncQuantEnergxWebSocket)')
        return self._keep_token(token)

    def refresh_token(self) -> None:
        """Fetches a fresh token with ``get_token`` and authenticates again on the same connection."""
        if self.get_token is None or not self._refreshing.acquire(blocking=False):
            return
        try:
            self._fetch_token()
            self.stats['token_refreshes'] += 1
            if self.sio.connected:
                self.authenticate()
        except QuantEnergxError as err:
            self._emit('error', err)
        finally:
            self._refreshing.release()

    def _schedule_refresh(self, expires_at: Any) -> None:
        if self.get_token is None or not expires_at or not self.refresh_before_expiry:
            return
        delay = refresh_delay(expires_at, self.refresh_lead)
        if delay is None:
            return
        with self._lock:
            if self._refresh_timer:
                self._refresh_timer.cancel()
            self._refresh_timer = threading.Timer(delay, self.refresh_token)
            self._refresh_timer.daemon = True
            self._refresh_timer.start()

    def _on_auth_error(self, data: Any) -> None:
        err = QuantEnergxError.from_wire(data if isinstance(data, dict) else {'code': 'INVALID_TOKEN'}, 'authenticate')
        self._emit('auth-error', err)
        if err.code == 'TOKEN_EXPIRED' and self._authenticated.is_set():
            # the gateway suspended our private rooms; a fresh token restores them (and replays)
            self._authenticated.clear()
            self.sio.start_background_task(self._refresh_after_expiry)

    def _refresh_after_expiry(self) -> None:
        self.refresh_token()
        if self.authenticated:
            try:
                self._resume()
            except QuantEnergxError as err:
                self._emit('error', err)

    # ---- requests --------------------------------------------------------------------------

    def _emit_call(self, event: str, data: Any = None) -> Any:
        """Emits with an acknowledgement; returns the ack as it came (no answer: REQUEST_TIMEOUT)."""
        try:
            return self.sio.call(event, data, timeout=self.request_timeout)
        except socketio.exceptions.TimeoutError:
            raise QuantEnergxError('REQUEST_TIMEOUT', '{}: no answer within {} s'.format(event, self.request_timeout), event) from None
        except socketio.exceptions.BadNamespaceError:
            raise QuantEnergxError('NOT_CONNECTED', '{}: not connected'.format(event), event) from None

    def _call(self, event: str, data: Any = None) -> Dict[str, Any]:
        """Emits with an acknowledgement; returns the confirmation or raises QuantEnergxError."""
        return ack_body(self._emit_call(event, data), event)

    def _request(self, event: str, data: Any = None) -> Dict[str, Any]:
        """A user request: waits for authentication, and is sent again after a reconnect."""
        deadline = time.monotonic() + self.request_timeout * 3
        while True:
            if self._failure is not None:
                raise QuantEnergxError(self._failure.code, self._failure.message, event)
            if self._closed:
                raise QuantEnergxError('CLIENT_CLOSED', 'the client was disconnected', event)
            if not self._authenticated.wait(max(0.0, deadline - time.monotonic())):
                raise QuantEnergxError('REQUEST_TIMEOUT', '{}: not authenticated'.format(event), event)
            try:
                return self._call(event, data)
            except QuantEnergxError as err:
                retry = err.code in RETRY_CODES or (err.code == 'REQUEST_TIMEOUT' and not self.sio.connected)
                if not retry or time.monotonic() > deadline:
                    raise
                if err.code in ('TOKEN_EXPIRED', 'NOT_AUTHENTICATED'):
                    self._authenticated.clear()
                    self.sio.start_background_task(self._refresh_after_expiry)
                time.sleep(0.05)

    def subscribe_to_market_data(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``subscribe-market`` (one symbol or a list); the latest update of each commodity follows at once."""
        body = self._request('subscribe-market', commodity_list(commodities, 'subscribe-market'))
        for c in body.get('commodities', []):
            self._subscribed('market', c)
        return body

    def unsubscribe_from_market_data(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``unsubscribe-market`` (one symbol or a list); their state is forgotten."""
        symbols = commodity_list(commodities, 'unsubscribe-market')
        for c in symbols:
            self._unsubscribed('market', c)
        return self._request('unsubscribe-market', symbols)

    def _subscribe_private(self, channel: str, user_id: Optional[str]) -> Dict[str, Any]:
        user = self._private_payload(user_id)
        body = self._request(PRIVATE_REQUESTS[channel][0], user)
        self._subscribed(channel, user)
        return body

    def subscribe_to_trading_updates(self, user_id: Optional[str] = None) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """``join-trading`` and ``subscribe-orders`` (default: this user); returns both confirmations."""
        return self._subscribe_private('trading', user_id), self._subscribe_private('orders', user_id)

    def subscribe_to_compliance_alerts(self, user_id: Optional[str] = None) -> Dict[str, Any]:
        """``subscribe-compliance`` (default: this user)."""
        return self._subscribe_private('compliance', user_id)

    def subscribe_book(self, commodity: str, depth: int = 10) -> Dict[str, Any]:
        """``subscribe-book``: the commodity's top ``depth`` levels (1-20), kept from a snapshot and
        checksummed deltas; a copy that fails its check is subscribed again for a fresh snapshot
        (``book-resync``). Read it with :meth:`book` or the ``book`` event."""
        payload = self._book_payload(commodity, depth)
        self._subscribed('book', commodity, payload['depth'])  # wanted before the answer: the snapshot follows at once
        try:
            return self._request('subscribe-book', payload)
        except QuantEnergxError:
            self._unsubscribed('book', commodity)
            raise

    def unsubscribe_book(self, commodity: str) -> Dict[str, Any]:
        """``unsubscribe-book``."""
        payload = self._book_payload(commodity)
        self._unsubscribed('book', commodity)
        return self._request('unsubscribe-book', payload)

    def subscribe_trades(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``subscribe-trades``: every trade of these commodities (the public tape) as ``market-trade``."""
        symbols = commodity_list(commodities, 'subscribe-trades')
        for c in symbols:
            self._subscribed('trades', c)
        try:
            return self._request('subscribe-trades', symbols)
        except QuantEnergxError:
            for c in symbols:
                self._unsubscribed('trades', c)
            raise

    def unsubscribe_trades(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``unsubscribe-trades``."""
        symbols = commodity_list(commodities, 'unsubscribe-trades')
        for c in symbols:
            self._unsubscribed('trades', c)
        return self._request('unsubscribe-trades', symbols)

    def ping(self) -> Dict[str, Any]:
        """``ping``: ``{timestamp}``, the gateway's clock in ms."""
        return self._request('ping')

    # ---- market status ---------------------------------------------------------------------

    def subscribe_status(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``subscribe-status`` (one symbol or a list): each commodity's current ``market-status``
        (open, halted, closed) at once, then every change, as ``market-status`` events and in
        :meth:`market_status`; followed again after a reconnect."""
        symbols = commodity_list(commodities, 'subscribe-status')
        with self._lock:
            fresh = [c for c in symbols if c not in self._wanted['status']]
        for c in symbols:
            self._subscribed('status', c)  # wanted before the answer: the snapshot follows at once
        try:
            return self._request('subscribe-status', symbols)
        except QuantEnergxError:
            for c in fresh:
                self._unsubscribed('status', c)
            raise

    def unsubscribe_status(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``unsubscribe-status``; the statuses held are forgotten."""
        symbols = commodity_list(commodities, 'unsubscribe-status')
        for c in symbols:
            self._unsubscribed('status', c)
        return self._request('unsubscribe-status', symbols)

    def get_market_status(self) -> List[Dict[str, Any]]:
        """``GET /api/v1/market/status``: every commodity's status (those followed update
        :meth:`market_status` when newer)."""
        rows = self._rest()._call('market_status', _Endpoints.market_status())
        self._statuses_fetched(rows)
        return rows

    # ---- order entry -----------------------------------------------------------------------

    def place_order(self, commodity: str, side: str, quantity: Any, price: Any = None, order_type: Optional[str] = None,
                    time_in_force: Optional[str] = None, client_order_id: Optional[str] = None) -> Order:
        """``place-order`` over the socket (REST ``POST /api/v1/trading/orders`` when it is down): as
        :meth:`QuantEnergxRest.place_order` — exact prices, the order as the result, refusals raised
        (``MARKET_HALTED``, ``TRADING_DISABLED``, ...). Idempotent by ``client_order_id`` (generated
        when not given) across retries and transports: it never trades twice."""
        return self._send_order(OrderCall.place(commodity, side, quantity, price, order_type, time_in_force, client_order_id))

    def cancel_order(self, order_id: str) -> Order:
        """``cancel-order`` (REST when the socket is down): the cancelled order."""
        return self._send_order(OrderCall.cancel(order_id))

    def amend_order(self, order_id: str, price: Any = None, quantity: Any = None) -> Order:
        """``amend-order`` (REST when the socket is down): a new price (exact) and/or a new total
        quantity; see :meth:`QuantEnergxRest.amend_order`."""
        return self._send_order(OrderCall.amend(order_id, price, quantity))

    def cancel_all(self, commodity: Optional[str] = None) -> List[Order]:
        """``cancel-all-orders`` (REST when the socket is down): cancels your open orders (of
        ``commodity``); returns them."""
        return self._send_order(OrderCall.cancel_all(commodity))

    def cancel_all_after(self, timeout_ms: int) -> Dict[str, Any]:
        """``cancel-all-after`` (REST when the socket is down), the dead-man's switch: unless called
        again within ``timeout_ms`` (1 000-86 400 000), all your open orders are cancelled; ``0``
        disarms. Returns ``{'timeoutMs', 'firesAt'}``. :meth:`dead_man_switch` re-arms it for you."""
        return self._send_order(OrderCall.cancel_all_after(timeout_ms))

    def cancel_on_disconnect(self, scope: str) -> Dict[str, Any]:
        """``cancel-on-disconnect``: ``'connection'`` cancels the orders placed through this socket
        when its connection ends, ``'account'`` all your open orders when your last such socket is
        gone, ``'off'`` neither. Asked again on every new session (before any order of it goes out)."""
        payload = cancel_on_disconnect_payload(scope)
        previous, self._cod_scope = self._cod_scope, payload['scope']
        self._safety_ready.clear()
        try:
            return self._request('cancel-on-disconnect', payload)
        except QuantEnergxError:
            if self._cod_scope == payload['scope']:
                self._cod_scope = previous
            raise
        finally:
            self._safety_ready.set()

    def dead_man_switch(self, timeout_ms: int, every_ms: Optional[float] = None,
                        on_error: Optional[Callable[[QuantEnergxError], None]] = None) -> 'DeadManSwitch':
        """Arms ``cancel-all-after timeout_ms`` and re-arms it every ``every_ms`` (default a third of
        it) on a thread, and at once after each reconnect, until ``stop()`` (or the end of a ``with``
        block). The first arm's refusal raises; later failures go to ``on_error`` (default: the
        ``error`` event) and re-arming goes on. One per client: a new one replaces the old."""
        switch = DeadManSwitch(self, timeout_ms, every_ms, on_error)
        with self._lock:
            old, self._dead_man = self._dead_man, switch
        if old is not None:
            old._halt()
        try:
            switch._start()
        except BaseException:
            with self._lock:
                if self._dead_man is switch:
                    self._dead_man = None
            raise
        return switch

    def _rest(self) -> QuantEnergxRest:
        if self._rest_api is None:
            self._rest_api = QuantEnergxRest(self.rest_url, get_token=self._current_token, timeout=self.request_timeout, retries=0)
        self._rest_api.token = None  # ask the client for its current token
        return self._rest_api

    def _send_order(self, call: 'OrderCall[R]') -> R:
        """Sends an order call, again (unchanged) while nothing answered it, up to ``order_retries`` times."""
        attempt = 0
        while True:
            if self._failure is not None:
                raise QuantEnergxError(self._failure.code, self._failure.message, call.event)
            if self._closed:
                raise QuantEnergxError('CLIENT_CLOSED', 'the client was disconnected', call.event)
            try:
                return self._order_transport(call)
            except QuantEnergxError as err:
                if attempt > 0:
                    outcome = call.retried_outcome(err)
                    if outcome is not None:
                        return outcome
                if not _may_retry(call.spec, err, attempt, self.order_retries):
                    raise
                attempt += 1
                if err.code != 'REQUEST_TIMEOUT':
                    time.sleep(_retry_pause(attempt))

    def _order_transport(self, call: 'OrderCall[R]') -> R:
        """One attempt: over the socket while it is authenticated (once cancel-on-disconnect is in
        place), over REST otherwise or when the socket turns out unusable before doing anything."""
        if self.authenticated:
            self._safety_ready.wait(self.request_timeout)
            if self.authenticated:
                try:
                    result = call.answered(self._emit_call(call.event, call.payload))
                except QuantEnergxError as err:
                    if err.code not in SOCKET_UNUSABLE:
                        raise
                    if err.code != 'NOT_CONNECTED':
                        self._authenticated.clear()
                        self.sio.start_background_task(self._refresh_after_expiry)
                else:
                    self.stats['orders_over_socket'] += 1
                    return result
        self.stats['orders_over_rest'] += 1
        return self._rest()._call(call.what, call.spec)

    # ---- data ------------------------------------------------------------------------------

    def _on_book_delta(self, update: Dict[str, Any]) -> None:
        resync = self._on_book_update(update)
        if resync is not None:
            self.sio.start_background_task(self._resync_book, resync)

    def _resync_book(self, payload: Dict[str, Any]) -> None:
        try:
            self._request('subscribe-book', payload)
        except QuantEnergxError as err:
            self._resync_failed(payload['commodity'], err)

    def _gap_opened(self, stream: str) -> None:
        # events are handled on one thread each, so a gap may only be a reordering: wait a moment
        if stream in self._gap_timers:
            return
        self._start_gap_timer(stream, self.gap_grace, time.monotonic())

    def _gap_closed(self, stream: str) -> None:
        timer = self._gap_timers.pop(stream, None)
        if timer:
            timer.cancel()

    def _start_gap_timer(self, stream: str, delay: float, since: float) -> None:
        timer = threading.Timer(delay, self._fill_gap, (stream, since))
        timer.daemon = True
        self._gap_timers[stream] = timer
        timer.start()

    def _fill_gap(self, stream: str, since: float) -> None:
        with self._lock:
            self._gap_timers.pop(stream, None)
        if not self._gap_of(stream) or self._closed:
            return
        try:
            if time.monotonic() - since < self.gap_timeout:
                if self.authenticated:
                    self._resume([stream])
            else:
                self._read_log(stream, give_up=True)
        except QuantEnergxError as err:
            self._emit('error', err)
        with self._lock:
            if self._gap_of(stream) and stream not in self._gap_timers and not self._closed:
                self._start_gap_timer(stream, self.gap_timeout / 2, since)

    def _resume(self, only: Optional[Iterable[str]] = None) -> None:
        """``resume {stream: lastSeq}``: the gateway replays what followed; a full replay is continued from REST."""
        for chunk in self._resume_chunks(only):
            while chunk:
                try:
                    self.stats['resumes'] += 1
                    result = self._call('resume', chunk)
                except QuantEnergxError as err:
                    if self._resume_refused(err, chunk):
                        continue
                    raise
                for stream, last in self._resumed(result):
                    self.sio.start_background_task(self._read_log, stream, False, last)
                break

    def _read_log(self, stream: str, give_up: bool, after: Optional[int] = None) -> None:
        """Reads a stream from the REST event log, through the same in-order path."""
        cursor = self._log_cursor(stream, after)
        try:
            token = self._current_token()
            while cursor is not None:
                res = requests.get(self.rest_url + '/api/v1/events', params=self._log_params(stream, cursor),
                                   headers={'Authorization': 'Bearer ' + token}, timeout=self.request_timeout)
                body = res.json()
                if res.status_code != 200:
                    raise QuantEnergxError.from_wire(body.get('error') if isinstance(body, dict) else None, 'events', res.status_code)
                cursor = self._log_page(body)
        except QuantEnergxError as refused:
            self._emit('error', refused)
            return
        except (requests.RequestException, ValueError, KeyError) as exc:
            err = QuantEnergxError('HTTP_ERROR', 'event log ({}): {}'.format(stream, exc), 'events')
            err.__cause__ = exc
            self._emit('error', err)
            return
        if give_up:
            self._give_up(stream)


class DeadManSwitch(DeadManCore):
    """A running dead-man's switch of a :class:`QuantEnergxWebSocket` (``ws.dead_man_switch(...)``):
    re-arms ``cancel-all-after`` every ``every_ms`` on a thread of its own, and at once after a
    reconnect. ``stop()`` (or leaving a ``with`` block) stops it and disarms it at the gateway.
    ``fires_at``, ``arms``, ``active``, ``timeout_ms``, ``every_ms`` say where it stands."""

    def __init__(self, client: QuantEnergxWebSocket, timeout_ms: Any, every_ms: Any = None,
                 on_error: Optional[Callable[[QuantEnergxError], None]] = None) -> None:
        super().__init__(timeout_ms, every_ms, on_error)
        self._client = client
        self._wake: threading.Event = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _start(self) -> None:
        try:
            self._armed(self._client.cancel_all_after(self.timeout_ms))
        except BaseException:
            self._halt()
            raise
        self._thread = threading.Thread(target=self._run, name='quantenergx-dead-man', daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.every_ms / 1000.0)
            self._wake.clear()
            if not self.active:
                return
            try:
                ack = self._client.cancel_all_after(self.timeout_ms)
            except QuantEnergxError as err:
                if self.active:
                    self._report(self._client, err)
            else:
                if self.active:
                    self._armed(ack)

    def stop(self, disarm: bool = True) -> None:
        """Stops re-arming. With ``disarm`` (default) it also disarms the switch at the gateway
        (``cancel-all-after 0``); without, the last deadline stands and fires unless re-armed."""
        was_active = self.active
        self._halt()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()  # an arm in flight ends first: the disarm is the last word
        with self._client._lock:
            if self._client._dead_man is self:
                self._client._dead_man = None
        if disarm and (was_active or self.fires_at is not None):
            self._armed(self._client.cancel_all_after(0))

    def __enter__(self) -> 'DeadManSwitch':
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
