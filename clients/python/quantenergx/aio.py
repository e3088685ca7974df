"""The asyncio client: :class:`AsyncQuantEnergxWebSocket`, on ``socketio.AsyncClient``, for
notebooks and async services. Same semantics as the threaded client (both are built on one core):
requests are awaitables that return the gateway's confirmation or raise ``QuantEnergxError``;
every (re)connect authenticates again, re-subscribes and resumes each private stream from its last
``seq``; duplicates are dropped and events after a hole are held until it is filled (by
``resume``, else from ``GET /api/v1/events``); the token is refreshed through ``get_token`` (a
function or a coroutine function) before it expires, after "Token expired", and once when the
gateway refuses it.

    async with AsyncQuantEnergxWebSocket('http://localhost:3001', 'user-123', get_token=fetch_token) as ws:
        await ws.subscribe_to_trading_updates()
        async with ws.events('order-update') as updates:     # or: async for event in ws.events(...)
            async for event in updates:
                print(event.data['payload']['status'])

Handlers run one at a time, in the order events are delivered (a coroutine handler is awaited
before the next event is handed out), on the event loop that called ``connect()``; ``events()``
streams see each event as it arrives, whatever the handlers do.
"""

import asyncio
import inspect
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Set, Tuple, TypeVar, Union

import socketio

from ._core import FATAL_AUTH_CODES, RETRY_CODES, QuantEnergxError, ack_body, connect_error, refresh_delay, request_error, token_unavailable
from ._session import (PRIVATE_REQUESTS, SOCKET_UNUSABLE, ClientCore, DeadManCore, OrderCall, cancel_on_disconnect_payload,
                       commodity_list)
from .client import Event, _event, connect_failed
from .rest import AsyncQuantEnergxRest, Order, _Endpoints, _may_retry, _retry_pause

__all__ = ['AsyncQuantEnergxWebSocket', 'AsyncEventStream', 'AsyncDeadManSwitch']

R = TypeVar('R')

logger = logging.getLogger('quantenergx')

_STOP: Tuple[str, Tuple[Any, ...]] = ('', ())


class AsyncEventStream:
    """Events as they arrive from the moment the stream was made (``ws.events(...)``): ``await
    stream.get(timeout)``, ``async for event in stream``, ``async with`` to stop it at the end."""

    def __init__(self, client: 'AsyncQuantEnergxWebSocket', names: Tuple[str, ...]) -> None:
        self._client = client
        self._queue: 'asyncio.Queue[Tuple[str, Tuple[Any, ...]]]' = asyncio.Queue()
        client._add_sink(names, self._queue)

    async def get(self, timeout: Optional[float] = None) -> Event:
        """The next event; ``REQUEST_TIMEOUT`` when none came within ``timeout`` seconds."""
        try:
            return _event(await asyncio.wait_for(self._queue.get(), timeout))
        except asyncio.TimeoutError:
            raise QuantEnergxError('REQUEST_TIMEOUT', 'no event within {} s'.format(timeout)) from None

    def close(self) -> None:
        """Stops the stream (events are no longer queued for it)."""
        self._client._remove_sink(self._queue)

    def __aiter__(self) -> 'AsyncEventStream':
        return self

    async def __anext__(self) -> Event:
        return await self.get()

    async def __aenter__(self) -> 'AsyncEventStream':
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


class AsyncQuantEnergxWebSocket(ClientCore):
    """A QuantEnergx Realtime client for asyncio. Handlers (functions or coroutine functions) are
    set with ``on(event, fn)``; a subclass may override the seed's ``handle_*`` methods.

    Events: the data events (``market-update``, ``trade-update``, ``order-update``,
    ``system-alert``, ``compliance-alert``; each handler gets the envelope), ``connect``,
    ``disconnect`` (the gateway's notice or None), ``auth-success``, ``auth-error`` and
    ``request-error`` (a QuantEnergxError), ``disconnect-reason`` (the gateway's notice),
    ``stream-gap`` (stream, first, last: events the gateway no longer holds), ``book`` (a
    :class:`~quantenergx.book.BookView`), ``book-resync`` (commodity, reason), ``market-trade``,
    ``market-status``, ``error``. Order calls travel over the socket while it is authenticated,
    over REST otherwise (see :class:`~quantenergx.client.QuantEnergxWebSocket`). A handler that awaits the next event through another handler waits forever (that
    handler runs after it returns): read ``ws.events(...)`` or ``await ws.wait_for(...)``.
    """

    def __init__(self, url: str, user_id: str, token: Optional[str] = None,
                 get_token: Optional[Callable[[], Any]] = None, request_timeout: float = 10.0,
                 reconnection_delay: float = 0.5, reconnection_delay_max: float = 10.0, gap_grace: float = 0.3,
                 gap_timeout: float = 3.0, refresh_lead: float = 30.0, refresh_before_expiry: bool = True,
                 rest_url: Optional[str] = None, order_retries: int = 2) -> None:
        super().__init__(url, user_id, token, get_token, request_timeout, reconnection_delay, reconnection_delay_max,
                         gap_grace, gap_timeout, refresh_lead, refresh_before_expiry, rest_url, order_retries)
        #: clear while cancel-on-disconnect is being (re)applied: socket orders wait for it
        self._safety_ready = asyncio.Event()
        self._safety_ready.set()
        self._dead_man: Optional['AsyncDeadManSwitch'] = None
        # exponential backoff with jitter between reconnection attempts, forever
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_attempts=0, reconnection_delay=reconnection_delay,
                                        reconnection_delay_max=reconnection_delay_max, randomization_factor=0.5)
        self._authenticated = asyncio.Event()
        self._auth_failed = asyncio.Event()
        self._gap_tasks: Dict[str, 'asyncio.Task[None]'] = {}
        self._refresh_task: Optional['asyncio.Task[None]'] = None
        self._refreshing: Optional['asyncio.Future[None]'] = None
        self._tasks: Set['asyncio.Future[Any]'] = set()
        self._queue: 'asyncio.Queue[Tuple[str, Tuple[Any, ...]]]' = asyncio.Queue()
        self._dispatcher: Optional['asyncio.Task[None]'] = None
        self._http: Any = None
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
        self._queue.put_nowait((event, args))

    async def _dispatch(self) -> None:
        while True:
            item = await self._queue.get()
            if item is _STOP:
                return
            event, args = item
            for handler in self._handlers_for(event):
                try:
                    result = handler(*args)
                    if inspect.isawaitable(result):
                        await result
                except Exception as exc:  # a handler's bug must not break the client
                    logger.exception('%s handler failed', event)
                    if event != 'error':
                        self._emit('error', exc)

    def events(self, *events: str) -> AsyncEventStream:
        """A stream of these events (all when none is named) from now on: ``async with
        ws.events('order-update') as updates`` then ``await updates.get(5)`` or ``async for``.
        It sees each event as it arrives, whatever the handlers are doing. Unknown names are refused."""
        return AsyncEventStream(self, self._check_events(events))

    async def wait_for(self, event: str, predicate: Optional[Callable[..., bool]] = None, timeout: float = 10.0) -> Any:
        """The next ``event`` (from now on) for which ``predicate`` holds: what a handler would get.
        ``REQUEST_TIMEOUT`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        async with self.events(event) as stream:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise QuantEnergxError('REQUEST_TIMEOUT', 'no {} within {} s'.format(event, timeout), event)
                item = await stream.get(remaining)
                args = item.data if isinstance(item.data, tuple) else (item.data,)
                if predicate is None or predicate(*args):
                    return item.data

    def _spawn(self, coro: Awaitable[Any]) -> 'asyncio.Future[Any]':
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: 'asyncio.Future[Any]') -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            err = task.exception()
            logger.error('background task failed', exc_info=err)
            self._emit('error', err)

    # ---- connection ------------------------------------------------------------------------

    async def connect(self, wait: bool = True, timeout: float = 10.0, retries: int = 0) -> 'AsyncQuantEnergxWebSocket':
        """Connects (WebSocket first) and, with ``wait``, returns once authenticated. Raises at once
        ``TOKEN_UNAVAILABLE`` (with the cause) when no token can be had, the refusal when the
        credentials are refused (after one fresh token from ``get_token``), ``CONNECT_FAILED`` when
        the gateway cannot be reached after ``retries`` more attempts, ``REQUEST_TIMEOUT`` when
        not authenticated within ``timeout`` seconds. A failed connect leaves no task or session."""
        if self.sio.connected:
            return self
        self._closed = False
        self._failure = None
        self._auth_failed.clear()
        try:
            await self._current_token()  # no token: raise now
            if self._dispatcher is None or self._dispatcher.done():
                self._dispatcher = asyncio.ensure_future(self._dispatch())
            attempt = 0
            while True:
                try:
                    await self.sio.connect(self.url, transports=['websocket', 'polling'], wait_timeout=timeout)
                    break
                except socketio.exceptions.ConnectionError as exc:
                    attempt += 1
                    if attempt > retries:
                        raise connect_failed(self.url, attempt, exc) from exc
                    delay = min(self.reconnection_delay * 2 ** (attempt - 1), self.reconnection_delay_max)
                    logger.info('could not reach %s (%s); trying again in %.1f s (%d of %d)', self.url, exc, delay, attempt, retries)
                    await asyncio.sleep(delay)
            if wait and not await self.wait_authenticated(timeout):
                if self._failure is not None:
                    raise self._failure
                raise QuantEnergxError('REQUEST_TIMEOUT', 'not authenticated within {} s'.format(timeout), 'authenticate')
        except BaseException:
            await self._shut_down()
            raise
        return self

    async def wait_authenticated(self, timeout: Optional[float] = None) -> bool:
        """True once authenticated; False after ``timeout`` or when the credentials were refused."""
        if self._authenticated.is_set():
            return True
        waiters = [asyncio.ensure_future(self._authenticated.wait()), asyncio.ensure_future(self._auth_failed.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        return self._authenticated.is_set()

    @property
    def connected(self) -> bool:
        """Whether the socket is connected."""
        return bool(self.sio.connected)

    @property
    def authenticated(self) -> bool:
        """Connected and authenticated."""
        return bool(self.sio.connected) and self._authenticated.is_set()

    async def disconnect(self) -> None:
        """Disconnects for good; handlers have seen every event received before it returns."""
        await self._shut_down(drain=True)

    async def _shut_down(self, drain: bool = False) -> None:
        """Stops everything the client started: socket, tasks, the dispatcher, HTTP sessions."""
        self._closed = True
        dead_man, self._dead_man = self._dead_man, None
        if dead_man is not None:
            dead_man._halt()  # nothing can be sent any more: the last deadline stands
        tasks: List['asyncio.Future[Any]'] = list(self._gap_tasks.values())
        if self._refresh_task is not None:
            tasks.append(self._refresh_task)
        for task in tasks:
            task.cancel()
        self._gap_tasks.clear()
        # python-socketio 5.7's disconnect() leaves a reconnection that is waiting to run: stop it
        abort = getattr(self.sio, '_reconnect_abort', None)
        if abort is not None:
            abort.set()
        await self.sio.disconnect()
        # a connect that failed leaves python-engineio's aiohttp session open
        eio_http = getattr(self.sio.eio, 'http', None)
        if eio_http is not None and not eio_http.closed:
            await eio_http.close()
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._dispatcher is current:
            self._queue.put_nowait(_STOP)  # called from a handler: the dispatcher stops after it
        elif self._dispatcher is not None and not self._dispatcher.done():
            if drain:
                self._queue.put_nowait(_STOP)
                try:
                    await asyncio.wait_for(asyncio.shield(self._dispatcher), 5)
                except asyncio.TimeoutError:
                    self._dispatcher.cancel()
            else:
                self._dispatcher.cancel()
                await asyncio.gather(self._dispatcher, return_exceptions=True)
        self._dispatcher = None
        self._authenticated.clear()

    async def __aenter__(self) -> 'AsyncQuantEnergxWebSocket':
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()

    def _on_connect(self) -> None:
        self._session += 1
        self.stats['sessions'] += 1
        if self._session > 1:
            logger.info('reconnected to %s (session %d): authenticating, subscribing again, resuming', self.url, self._session)
        self._authenticated.clear()
        self._emit('connect')
        # not inline: this handler must return for python-socketio to finish connecting
        self._spawn(self._start_session(self._session))

    def _on_disconnect(self) -> None:
        self._authenticated.clear()
        notice = self._take_notice()
        if not self._closed:
            logger.info('disconnected from %s%s; reconnecting', self.url, ' ({})'.format(notice.get('code')) if notice else '')
        self._emit('disconnect', notice)

    async def _start_session(self, session: int) -> None:
        """Every connection is a new session: authenticate, ask for cancel-on-disconnect again (before
        any order of the session goes out over it), subscribe again, resume every stream."""
        if self._cod_scope != 'off':
            self._safety_ready.clear()
        try:
            try:
                await self._sign_in()
            except QuantEnergxError as err:
                if err.code in FATAL_AUTH_CODES or err.code == 'TOKEN_EXPIRED':
                    await self._fail_auth(err)
                else:
                    self._emit('error', err)
                return
            await self._restore_safety(session)
        finally:
            self._safety_ready.set()
        plan = self._restore_plan()
        for event, payload, refused in plan:
            if session != self._session or not self.sio.connected:
                return
            try:
                await self._call(event, payload)
            except QuantEnergxError as err:
                refused(err)
        self._restored(plan)
        if self._dead_man is not None:
            self._dead_man.rearm_now()
        try:
            await self._resume()
        except QuantEnergxError as err:
            if session == self._session:
                self._emit('error', err)

    async def _restore_safety(self, session: int) -> None:
        """A new session starts without cancel-on-disconnect (it belongs to a connection): ask again."""
        scope = self._cod_scope
        if scope == 'off':
            return
        try:
            await self._call('cancel-on-disconnect', {'scope': scope})
        except QuantEnergxError as err:
            if session == self._session:
                self._emit('error', err)

    async def _sign_in(self) -> None:
        """``authenticate``; a refused or expired token is replaced once through ``get_token``."""
        try:
            await self.authenticate()
        except QuantEnergxError as err:
            if err.code not in ('TOKEN_EXPIRED', 'INVALID_TOKEN') or self.get_token is None:
                raise
            self.token = None
            try:
                await self.authenticate()
            except QuantEnergxError as again:
                raise QuantEnergxError(again.code, '{} (refused again with a fresh token from get_token)'.format(again.message),
                                       again.event, again.field) from again

    async def _fail_auth(self, err: QuantEnergxError) -> None:
        self._failure = err
        self._auth_failed.set()
        self._emit('error', err)
        self._closed = True
        await self.sio.disconnect()

    async def authenticate(self) -> Dict[str, Any]:
        """The seed's ``authenticate`` event; returns the ``auth-success`` payload."""
        body = await self._call('authenticate', {'userId': self.user_id, 'token': await self._current_token()})
        self._authenticated.set()
        self._schedule_refresh(body.get('expiresAt'))
        return body

    async def _fetch_token(self) -> str:
        if self.get_token is None:
            raise QuantEnergxError('TOKEN_UNAVAILABLE', 'no get_token to ask for a token')
        try:
            token = self.get_token()
            if inspect.isawaitable(token):
                token = await token
        except Exception as exc:
            raise token_unavailable(exc) from exc
        return self._keep_token(token)

    async def _current_token(self) -> str:
        held = self._held_token()
        return held if held is not None else await self._fetch_token()

    async def refresh_token(self) -> None:
        """Fetches a fresh token with ``get_token`` and authenticates again on the same connection."""
        if self.get_token is None:
            return
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._do_refresh())
        await asyncio.shield(self._refreshing)

    async def _do_refresh(self) -> None:
        try:
            await self._fetch_token()
            self.stats['token_refreshes'] += 1
            if self.sio.connected:
                await self.authenticate()
        except QuantEnergxError as err:
            self._emit('error', err)

    def _schedule_refresh(self, expires_at: Any) -> None:
        if self.get_token is None or not expires_at or not self.refresh_before_expiry:
            return
        delay = refresh_delay(expires_at, self.refresh_lead)
        if delay is None:
            return
        if self._refresh_task is not None and self._refresh_task is not asyncio.current_task():
            self._refresh_task.cancel()
        self._refresh_task = asyncio.ensure_future(self._refresh_later(delay))
        self._tasks.add(self._refresh_task)
        self._refresh_task.add_done_callback(self._task_done)

    async def _refresh_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.refresh_token()

    def _on_auth_error(self, data: Any) -> None:
        err = QuantEnergxError.from_wire(data if isinstance(data, dict) else {'code': 'INVALID_TOKEN'}, 'authenticate')
        self._emit('auth-error', err)
        if err.code == 'TOKEN_EXPIRED' and self._authenticated.is_set():
            # the gateway suspended our private rooms; a fresh token restores them (and replays)
            self._authenticated.clear()
            self._spawn(self._refresh_after_expiry())

    async def _refresh_after_expiry(self) -> None:
        await self.refresh_token()
        if self.authenticated:
            try:
                await self._resume()
            except QuantEnergxError as err:
                self._emit('error', err)

    # ---- requests --------------------------------------------------------------------------

    async def _emit_call(self, event: str, data: Any = None) -> Any:
        """Emits with an acknowledgement; returns the ack as it came (no answer: REQUEST_TIMEOUT)."""
        try:
            return await self.sio.call(event, data, timeout=self.request_timeout)
        except socketio.exceptions.TimeoutError:
            raise QuantEnergxError('REQUEST_TIMEOUT', '{}: no answer within {} s'.format(event, self.request_timeout), event) from None
        except socketio.exceptions.BadNamespaceError:
            raise QuantEnergxError('NOT_CONNECTED', '{}: not connected'.format(event), event) from None

    async def _call(self, event: str, data: Any = None) -> Dict[str, Any]:
        """Emits with an acknowledgement; returns the confirmation or raises QuantEnergxError."""
        return ack_body(await self._emit_call(event, data), event)

    async def _request(self, event: str, data: Any = None) -> Dict[str, Any]:
        """A user request: waits for authentication, and is sent again after a reconnect."""
        deadline = time.monotonic() + self.request_timeout * 3
        while True:
            if self._failure is not None:
                raise QuantEnergxError(self._failure.code, self._failure.message, event)
            if self._closed:
                raise QuantEnergxError('CLIENT_CLOSED', 'the client was disconnected', event)
            if not await self.wait_authenticated(max(0.0, deadline - time.monotonic())):
                if self._failure is not None:
                    raise QuantEnergxError(self._failure.code, self._failure.message, event)
                raise QuantEnergxError('REQUEST_TIMEOUT', '{}: not authenticated'.format(event), event)
            try:
                return await self._call(event, data)
            except QuantEnergxError as err:
                retry = err.code in RETRY_CODES or (err.code == 'REQUEST_TIMEOUT' and not self.sio.connected)
                if not retry or time.monotonic() > deadline:
                    raise
                if err.code in ('TOKEN_EXPIRED', 'NOT_AUTHENTICATED'):
                    self._authenticated.clear()
                    self._spawn(self._refresh_after_expiry())
                await asyncio.sleep(0.05)

    async def subscribe_to_market_data(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``subscribe-market`` (one symbol or a list); the latest update of each commodity follows at once."""
        body = await self._request('subscribe-market', commodity_list(commodities, 'subscribe-market'))
        for c in body.get('commodities', []):
            self._subscribed('market', c)
        return body

    async def unsubscribe_from_market_data(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``unsubscribe-market`` (one symbol or a list); their state is forgotten."""
        symbols = commodity_list(commodities, 'unsubscribe-market')
        for c in symbols:
            self._unsubscribed('market', c)
        return await self._request('unsubscribe-market', symbols)

    async def _subscribe_private(self, channel: str, user_id: Optional[str]) -> Dict[str, Any]:
        user = self._private_payload(user_id)
        body = await self._request(PRIVATE_REQUESTS[channel][0], user)
        self._subscribed(channel, user)
        return body

    async def subscribe_to_trading_updates(self, user_id: Optional[str] = None) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """``join-trading`` and ``subscribe-orders`` (default: this user); returns both confirmations."""
        return (await self._subscribe_private('trading', user_id), await self._subscribe_private('orders', user_id))

    async def subscribe_to_compliance_alerts(self, user_id: Optional[str] = None) -> Dict[str, Any]:
        """``subscribe-compliance`` (default: this user)."""
        return await self._subscribe_private('compliance', user_id)

    async def subscribe_book(self, commodity: str, depth: int = 10) -> Dict[str, Any]:
        """``subscribe-book``: the commodity's top ``depth`` levels, checksummed, resubscribed when a
        check fails (see :meth:`QuantEnergxWebSocket.subscribe_book`)."""
        payload = self._book_payload(commodity, depth)
        self._subscribed('book', commodity, payload['depth'])
        try:
            return await self._request('subscribe-book', payload)
        except QuantEnergxError:
            self._unsubscribed('book', commodity)
            raise

    async def unsubscribe_book(self, commodity: str) -> Dict[str, Any]:
        """``unsubscribe-book``."""
        payload = self._book_payload(commodity)
        self._unsubscribed('book', commodity)
        return await self._request('unsubscribe-book', payload)

    async def subscribe_trades(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``subscribe-trades``: every trade of these commodities (the public tape) as ``market-trade``."""
        symbols = commodity_list(commodities, 'subscribe-trades')
        for c in symbols:
            self._subscribed('trades', c)
        try:
            return await self._request('subscribe-trades', symbols)
        except QuantEnergxError:
            for c in symbols:
                self._unsubscribed('trades', c)
            raise

    async def unsubscribe_trades(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``unsubscribe-trades``."""
        symbols = commodity_list(commodities, 'unsubscribe-trades')
        for c in symbols:
            self._unsubscribed('trades', c)
        return await self._request('unsubscribe-trades', symbols)

    async def ping(self) -> Dict[str, Any]:
        """``ping``: ``{timestamp}``, the gateway's clock in ms."""
        return await self._request('ping')

    # ---- market status ---------------------------------------------------------------------

    async def subscribe_status(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``subscribe-status`` (one symbol or a list): each commodity's current ``market-status`` at
        once, then every change, as ``market-status`` events and in :meth:`market_status`."""
        symbols = commodity_list(commodities, 'subscribe-status')
        fresh = [c for c in symbols if c not in self._wanted['status']]
        for c in symbols:
            self._subscribed('status', c)  # wanted before the answer: the snapshot follows at once
        try:
            return await self._request('subscribe-status', symbols)
        except QuantEnergxError:
            for c in fresh:
                self._unsubscribed('status', c)
            raise

    async def unsubscribe_status(self, commodities: Union[str, Iterable[str]]) -> Dict[str, Any]:
        """``unsubscribe-status``; the statuses held are forgotten."""
        symbols = commodity_list(commodities, 'unsubscribe-status')
        for c in symbols:
            self._unsubscribed('status', c)
        return await self._request('unsubscribe-status', symbols)

    async def get_market_status(self) -> List[Dict[str, Any]]:
        """``GET /api/v1/market/status``: every commodity's status (those followed update
        :meth:`market_status` when newer)."""
        rows = await self._rest()._call('market_status', _Endpoints.market_status())
        self._statuses_fetched(rows)
        return rows

    # ---- order entry -----------------------------------------------------------------------

    async def place_order(self, commodity: str, side: str, quantity: Any, price: Any = None, order_type: Optional[str] = None,
                          time_in_force: Optional[str] = None, client_order_id: Optional[str] = None) -> Order:
        """``place-order`` over the socket (REST when it is down); see
        :meth:`QuantEnergxWebSocket.place_order`. Idempotent by ``client_order_id``."""
        return await self._send_order(OrderCall.place(commodity, side, quantity, price, order_type, time_in_force,
                                                      client_order_id))

    async def cancel_order(self, order_id: str) -> Order:
        """``cancel-order`` (REST when the socket is down): the cancelled order."""
        return await self._send_order(OrderCall.cancel(order_id))

    async def amend_order(self, order_id: str, price: Any = None, quantity: Any = None) -> Order:
        """``amend-order`` (REST when the socket is down): a new price and/or a new total quantity."""
        return await self._send_order(OrderCall.amend(order_id, price, quantity))

    async def cancel_all(self, commodity: Optional[str] = None) -> List[Order]:
        """``cancel-all-orders`` (REST when the socket is down): the orders cancelled."""
        return await self._send_order(OrderCall.cancel_all(commodity))

    async def cancel_all_after(self, timeout_ms: int) -> Dict[str, Any]:
        """``cancel-all-after`` (REST when the socket is down): the dead-man's switch; ``0`` disarms.
        Returns ``{'timeoutMs', 'firesAt'}``."""
        return await self._send_order(OrderCall.cancel_all_after(timeout_ms))

    async def cancel_on_disconnect(self, scope: str) -> Dict[str, Any]:
        """``cancel-on-disconnect`` (``'connection'``, ``'account'`` or ``'off'``); asked again on every
        new session, before any order of it goes out; see :meth:`QuantEnergxWebSocket.cancel_on_disconnect`."""
        payload = cancel_on_disconnect_payload(scope)
        previous, self._cod_scope = self._cod_scope, payload['scope']
        self._safety_ready.clear()
        try:
            return await self._request('cancel-on-disconnect', payload)
        except QuantEnergxError:
            if self._cod_scope == payload['scope']:
                self._cod_scope = previous
            raise
        finally:
            self._safety_ready.set()

    async def dead_man_switch(self, timeout_ms: int, every_ms: Optional[float] = None,
                              on_error: Optional[Callable[[QuantEnergxError], None]] = None) -> 'AsyncDeadManSwitch':
        """Arms ``cancel-all-after timeout_ms`` and re-arms it every ``every_ms`` (default a third)
        in a task, and at once after each reconnect, until ``await stop()`` (or the end of an
        ``async with`` block); see :meth:`QuantEnergxWebSocket.dead_man_switch`."""
        switch = AsyncDeadManSwitch(self, timeout_ms, every_ms, on_error)
        old, self._dead_man = self._dead_man, switch
        if old is not None:
            old._halt()
        try:
            await switch._start()
        except BaseException:
            if self._dead_man is switch:
                self._dead_man = None
            raise
        return switch

    def _rest(self) -> AsyncQuantEnergxRest:
        import aiohttp
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout))
        return AsyncQuantEnergxRest(self.rest_url, get_token=self._current_token, timeout=self.request_timeout,
                                    session=self._http, retries=0)

    async def _send_order(self, call: 'OrderCall[R]') -> R:
        """Sends an order call, again (unchanged) while nothing answered it, up to ``order_retries`` times."""
        attempt = 0
        while True:
            if self._failure is not None:
                raise QuantEnergxError(self._failure.code, self._failure.message, call.event)
            if self._closed:
                raise QuantEnergxError('CLIENT_CLOSED', 'the client was disconnected', call.event)
            try:
                return await self._order_transport(call)
            except QuantEnergxError as err:
                if attempt > 0:
                    outcome = call.retried_outcome(err)
                    if outcome is not None:
                        return outcome
                if not _may_retry(call.spec, err, attempt, self.order_retries):
                    raise
                attempt += 1
                if err.code != 'REQUEST_TIMEOUT':
                    await asyncio.sleep(_retry_pause(attempt))

    async def _order_transport(self, call: 'OrderCall[R]') -> R:
        """One attempt: over the socket while it is authenticated (once cancel-on-disconnect is in
        place), over REST otherwise or when the socket turns out unusable before doing anything."""
        if self.authenticated:
            try:
                await asyncio.wait_for(self._safety_ready.wait(), self.request_timeout)
            except asyncio.TimeoutError:
                pass
            if self.authenticated:
                try:
                    result = call.answered(await self._emit_call(call.event, call.payload))
                except QuantEnergxError as err:
                    if err.code not in SOCKET_UNUSABLE:
                        raise
                    if err.code != 'NOT_CONNECTED':
                        self._authenticated.clear()
                        self._spawn(self._refresh_after_expiry())
                else:
                    self.stats['orders_over_socket'] += 1
                    return result
        self.stats['orders_over_rest'] += 1
        return await self._rest()._call(call.what, call.spec)

    # ---- data ------------------------------------------------------------------------------

    def _on_book_delta(self, update: Dict[str, Any]) -> None:
        resync = self._on_book_update(update)
        if resync is not None:
            self._spawn(self._resync_book(resync))

    async def _resync_book(self, payload: Dict[str, Any]) -> None:
        try:
            await self._request('subscribe-book', payload)
        except QuantEnergxError as err:
            self._resync_failed(payload['commodity'], err)

    def _gap_opened(self, stream: str) -> None:
        if stream not in self._gap_tasks:
            self._gap_tasks[stream] = asyncio.ensure_future(self._fill_gap(stream, time.monotonic(), self.gap_grace))

    def _gap_closed(self, stream: str) -> None:
        # its filler ends by itself (it may be waiting for an ack: not cancelled mid-request)
        self._gap_tasks.pop(stream, None)

    async def _fill_gap(self, stream: str, since: float, delay: float) -> None:
        """A hole: wait a moment (a reordering?), ask for a replay, and after ``gap_timeout`` read the
        event log and give up on what it no longer holds."""
        me = asyncio.current_task()
        while True:
            await asyncio.sleep(delay)
            if not self._gap_of(stream) or self._closed or self._gap_tasks.get(stream) is not me:
                break
            try:
                if time.monotonic() - since < self.gap_timeout:
                    if self.authenticated:
                        await self._resume([stream])
                else:
                    await self._read_log(stream, give_up=True)
            except QuantEnergxError as err:
                self._emit('error', err)
            if not self._gap_of(stream) or self._closed:
                break
            delay = self.gap_timeout / 2
        if self._gap_tasks.get(stream) is me:
            del self._gap_tasks[stream]

    async def _resume(self, only: Optional[Iterable[str]] = None) -> None:
        """``resume {stream: lastSeq}``: the gateway replays what followed; a full replay is continued from REST."""
        for chunk in self._resume_chunks(only):
            while chunk:
                try:
                    self.stats['resumes'] += 1
                    result = await self._call('resume', chunk)
                except QuantEnergxError as err:
                    if self._resume_refused(err, chunk):
                        continue
                    raise
                for stream, last in self._resumed(result):
                    self._spawn(self._read_log(stream, False, last))
                break

    async def _read_log(self, stream: str, give_up: bool, after: Optional[int] = None) -> None:
        """Reads a stream from the REST event log, through the same in-order path."""
        import aiohttp
        cursor = self._log_cursor(stream, after)
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout))
        try:
            token = await self._current_token()
            while cursor is not None:
                async with self._http.get(self.rest_url + '/api/v1/events', params=self._log_params(stream, cursor),
                                          headers={'Authorization': 'Bearer ' + token}) as res:
                    body = await res.json(content_type=None)
                    if res.status != 200:
                        raise QuantEnergxError.from_wire(body.get('error') if isinstance(body, dict) else None, 'events', res.status)
                cursor = self._log_page(body)
        except QuantEnergxError as refused:
            self._emit('error', refused)
            return
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError) as exc:
            err = QuantEnergxError('HTTP_ERROR', 'event log ({}): {}'.format(stream, exc), 'events')
            err.__cause__ = exc
            self._emit('error', err)
            return
        if give_up:
            self._give_up(stream)


class AsyncDeadManSwitch(DeadManCore):
    """A running dead-man's switch of an :class:`AsyncQuantEnergxWebSocket` (``await
    ws.dead_man_switch(...)``): re-arms ``cancel-all-after`` every ``every_ms`` in a task, and at
    once after a reconnect. ``await stop()`` (or leaving an ``async with`` block) stops it and
    disarms it at the gateway."""

    def __init__(self, client: AsyncQuantEnergxWebSocket, timeout_ms: Any, every_ms: Any = None,
                 on_error: Optional[Callable[[QuantEnergxError], None]] = None) -> None:
        super().__init__(timeout_ms, every_ms, on_error)
        self._client = client
        self._wake: asyncio.Event = asyncio.Event()
        self._task: Optional['asyncio.Task[None]'] = None

    async def _start(self) -> None:
        try:
            self._armed(await self._client.cancel_all_after(self.timeout_ms))
        except BaseException:
            self._halt()
            raise
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.every_ms / 1000.0)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            if not self.active:
                return
            try:
                ack = await self._client.cancel_all_after(self.timeout_ms)
            except QuantEnergxError as err:
                if self.active:
                    self._report(self._client, err)
            else:
                if self.active:
                    self._armed(ack)

    async def stop(self, disarm: bool = True) -> None:
        """Stops re-arming; with ``disarm`` (default) also disarms the switch at the gateway
        (``cancel-all-after 0``); without, the last deadline stands."""
        was_active = self.active
        self._halt()
        task = self._task
        if task is not None and task is not asyncio.current_task():
            await asyncio.gather(task, return_exceptions=True)  # an arm in flight ends first
        if self._client._dead_man is self:
            self._client._dead_man = None
        if disarm and (was_active or self.fires_at is not None):
            self._armed(await self._client.cancel_all_after(0))

    async def __aenter__(self) -> 'AsyncDeadManSwitch':
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
