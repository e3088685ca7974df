"""The asyncio client: :class:`AsyncQuantEnergxWebSocket`, on ``socketio.AsyncClient``, for
notebooks and async services. Same semantics as the threaded client: requests are awaitables that
return the gateway's confirmation or raise ``QuantEnergxError``; every (re)connect authenticates
again, re-subscribes and resumes each private stream from its last ``seq``; duplicates are dropped
and events after a hole are held until it is filled (by ``resume``, else from
``GET /api/v1/events``); the token is refreshed through ``get_token`` (a function or a coroutine
function) before it expires and after "Token expired".

    ws = AsyncQuantEnergxWebSocket('http://localhost:3001', 'user-123', get_token=fetch_token)
    ws.on('order-update', on_order)                # a function or a coroutine function
    await ws.connect()
    await ws.subscribe_to_trading_updates()

Handlers run one at a time, in the order events are delivered (a coroutine handler is awaited
before the next event is handed out), on the event loop that called ``connect()``.
"""

import asyncio
import inspect
import logging
import time

import socketio

from ._core import (FATAL_AUTH_CODES, LOG_PAGE, RESUME_CHUNK, RETRY_CODES, SERVER_REPLAY_LIMIT, OrderedStreams,
                    QuantEnergxError, ack_body, connect_error, is_expiring, refresh_delay, request_error,
                    rest_origin, stream_of)

__all__ = ['AsyncQuantEnergxWebSocket']

logger = logging.getLogger('quantenergx')

_STOP = object()


class AsyncQuantEnergxWebSocket:
    """A QuantEnergx Realtime client for asyncio. Handlers are set with ``on(event, fn)``.

    Events: the data events (``market-update``, ``trade-update``, ``order-update``,
    ``system-alert``, ``compliance-alert``; each handler gets the envelope), ``connect``,
    ``disconnect`` (the gateway's notice or None), ``auth-success``, ``auth-error`` and
    ``request-error`` (a QuantEnergxError), ``disconnect-reason`` (the gateway's notice),
    ``stream-gap`` (stream, first, last: events the gateway no longer holds), ``error``.
    """

    def __init__(self, url, user_id, token=None, get_token=None, request_timeout=10.0,
                 reconnection_delay=0.5, reconnection_delay_max=10.0, gap_grace=0.3, gap_timeout=3.0,
                 refresh_lead=30.0, refresh_before_expiry=True, rest_url=None):
        if not token and not get_token:
            raise ValueError('AsyncQuantEnergxWebSocket needs a token or get_token')
        self.url = url
        self.user_id = user_id
        self.token = token
        self.get_token = get_token
        self.request_timeout = request_timeout
        self.gap_grace = gap_grace
        self.gap_timeout = gap_timeout
        self.refresh_lead = refresh_lead
        self.refresh_before_expiry = refresh_before_expiry
        self.rest_url = rest_url or rest_origin(url)
        # exponential backoff with jitter between reconnection attempts, forever
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_attempts=0,
                                        reconnection_delay=reconnection_delay,
                                        reconnection_delay_max=reconnection_delay_max,
                                        randomization_factor=0.5)
        self._handlers = {}
        self._streams = OrderedStreams()
        self._market_seqs = {}
        self._market = {}
        self._wanted = {'market': set(), 'trading': set(), 'orders': set(), 'compliance': set()}
        self._authenticated = asyncio.Event()
        self._auth_failed = asyncio.Event()
        self._auth_failure = None
        self._session = 0
        self._closed = False
        self._gap_tasks = {}
        self._refresh_task = None
        self._refreshing = None
        self._notice = None
        self._tasks = set()
        self._queue = asyncio.Queue()
        self._dispatcher = None
        self._http = None
        self.stats = {'duplicates_dropped': 0, 'gaps_recovered': 0, 'events_lost': 0, 'resumes': 0,
                      'log_reads': 0, 'token_refreshes': 0, 'sessions': 0}
        self._setup_handlers()

    # ---- handlers --------------------------------------------------------------------------

    def on(self, event, handler):
        """Adds a handler (a function or a coroutine function); returns a function that removes it."""
        self._handlers.setdefault(event, []).append(handler)

        def off():
            if handler in self._handlers.get(event, []):
                self._handlers[event].remove(handler)
        return off

    def _emit(self, event, *args):
        """Queues an event for the handlers: they see events one at a time, in this order."""
        self._queue.put_nowait((event, args))

    async def _dispatch(self):
        while True:
            item = await self._queue.get()
            if item is _STOP:
                return
            event, args = item
            for handler in list(self._handlers.get(event, [])):
                try:
                    result = handler(*args)
                    if inspect.isawaitable(result):
                        await result
                except Exception as exc:  # a handler's bug must not break the client
                    logger.exception('%s handler failed', event)
                    if event != 'error':
                        self._emit('error', exc)

    def _spawn(self, coro):
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task):
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error('background task failed', exc_info=task.exception())
            self._emit('error', task.exception())

    def _setup_handlers(self):
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

    # ---- connection ------------------------------------------------------------------------

    async def connect(self, wait=True, timeout=10.0):
        """Connects (WebSocket first) and, with ``wait``, returns once authenticated."""
        self._closed = False
        self._auth_failure = None
        self._auth_failed.clear()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.ensure_future(self._dispatch())
        await self.sio.connect(self.url, transports=['websocket', 'polling'], wait_timeout=timeout)
        if wait and not await self.wait_authenticated(timeout):
            raise QuantEnergxError(self._auth_failure.code if self._auth_failure else 'REQUEST_TIMEOUT',
                                   self._auth_failure.message if self._auth_failure
                                   else 'not authenticated within {} s'.format(timeout))
        return self

    async def wait_authenticated(self, timeout=None):
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
    def connected(self):
        return self.sio.connected

    @property
    def authenticated(self):
        return self.sio.connected and self._authenticated.is_set()

    async def disconnect(self):
        """Disconnects for good; handlers have seen every event received before it returns."""
        self._closed = True
        for task in list(self._gap_tasks.values()) + ([self._refresh_task] if self._refresh_task else []):
            task.cancel()
        self._gap_tasks.clear()
        await self.sio.disconnect()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._dispatcher is asyncio.current_task():
            self._queue.put_nowait(_STOP)  # called from a handler: the dispatcher stops after it
        elif self._dispatcher is not None and not self._dispatcher.done():
            self._queue.put_nowait(_STOP)
            try:
                await asyncio.wait_for(self._dispatcher, 5)
            except asyncio.TimeoutError:
                self._dispatcher.cancel()
        self._dispatcher = None

    async def __aenter__(self):
        return await self.connect()

    async def __aexit__(self, *exc):
        await self.disconnect()

    def _on_connect(self):
        self._session += 1
        self.stats['sessions'] += 1
        self._authenticated.clear()
        self._emit('connect')
        # not inline: this handler must return for python-socketio to finish connecting
        self._spawn(self._start_session(self._session))

    def _on_disconnect(self):
        self._authenticated.clear()
        notice, self._notice = self._notice, None
        self._emit('disconnect', notice)

    def _on_disconnect_reason(self, notice):
        self._notice = notice
        self._emit('disconnect-reason', notice)

    async def _start_session(self, session):
        """Every connection is a new session: authenticate, subscribe again, resume every stream."""
        try:
            await self.authenticate()
        except QuantEnergxError as err:
            if err.code == 'TOKEN_EXPIRED' and self.get_token:
                self.token = None
                try:
                    await self.authenticate()
                except QuantEnergxError as again:
                    return await self._fail_auth(again)
            elif err.code in FATAL_AUTH_CODES or err.code == 'TOKEN_EXPIRED':
                return await self._fail_auth(err)
            else:
                return self._emit('error', err)
        wanted = {k: sorted(v) for k, v in self._wanted.items()}
        try:
            if wanted['market']:
                await self._call('subscribe-market', wanted['market'])
            for user in wanted['trading']:
                await self._call('join-trading', user)
            for user in wanted['orders']:
                await self._call('subscribe-orders', user)
            for user in wanted['compliance']:
                await self._call('subscribe-compliance', user)
            await self._resume()
        except QuantEnergxError as err:
            if session == self._session:
                self._emit('error', err)

    async def _fail_auth(self, err):
        self._auth_failure = err
        self._auth_failed.set()
        self._emit('error', err)
        self._closed = True
        await self.sio.disconnect()

    async def authenticate(self):
        """The seed's ``authenticate`` event; returns the ``auth-success`` payload."""
        body = await self._call('authenticate', {'userId': self.user_id, 'token': await self._current_token()})
        self._authenticated.set()
        self._schedule_refresh(body.get('expiresAt'))
        return body

    async def _fetch_token(self):
        token = self.get_token()
        if inspect.isawaitable(token):
            token = await token
        self.token = token
        return token

    async def _current_token(self):
        if self.token and not (self.get_token and is_expiring(self.token, self.refresh_lead)):
            return self.token
        if self.get_token:
            return await self._fetch_token()
        raise QuantEnergxError('TOKEN_UNAVAILABLE', 'no token')

    async def refresh_token(self):
        """Fetches a fresh token with ``get_token`` and authenticates again on the same connection."""
        if not self.get_token:
            return
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._do_refresh())
        await asyncio.shield(self._refreshing)

    async def _do_refresh(self):
        try:
            await self._fetch_token()
            self.stats['token_refreshes'] += 1
            if self.sio.connected:
                await self.authenticate()
        except QuantEnergxError as err:
            self._emit('error', err)
        except Exception as exc:  # get_token failed
            self._emit('error', QuantEnergxError('TOKEN_UNAVAILABLE', 'get_token failed: {}'.format(exc)))

    def _schedule_refresh(self, expires_at):
        if not self.get_token or not expires_at or not self.refresh_before_expiry:
            return
        delay = refresh_delay(expires_at, self.refresh_lead)
        if delay is None:
            return
        if self._refresh_task is not None and self._refresh_task is not asyncio.current_task():
            self._refresh_task.cancel()
        self._refresh_task = self._spawn(self._refresh_later(delay))

    async def _refresh_later(self, delay):
        await asyncio.sleep(delay)
        await self.refresh_token()

    def _on_auth_error(self, data):
        data = data if isinstance(data, dict) else {}
        err = QuantEnergxError(data.get('code', 'INVALID_TOKEN'), data.get('message', ''), 'authenticate')
        self._emit('auth-error', err)
        if err.code == 'TOKEN_EXPIRED' and self._authenticated.is_set():
            # the gateway suspended our private rooms; a fresh token restores them (and replays)
            self._authenticated.clear()
            self._spawn(self._refresh_after_expiry())

    async def _refresh_after_expiry(self):
        await self.refresh_token()
        if self.authenticated:
            try:
                await self._resume()
            except QuantEnergxError as err:
                self._emit('error', err)

    # ---- requests --------------------------------------------------------------------------

    async def _call(self, event, data=None):
        """Emits with an acknowledgement; returns the confirmation or raises QuantEnergxError."""
        try:
            response = await self.sio.call(event, data, timeout=self.request_timeout)
        except socketio.exceptions.TimeoutError:
            raise QuantEnergxError('REQUEST_TIMEOUT', '{}: no answer'.format(event), event)
        except socketio.exceptions.BadNamespaceError:
            raise QuantEnergxError('NOT_CONNECTED', '{}: not connected'.format(event), event)
        return ack_body(response, event)

    async def _request(self, event, data=None):
        """A user request: waits for authentication, and is sent again after a reconnect."""
        deadline = time.monotonic() + self.request_timeout * 3
        while True:
            if self._closed:
                raise QuantEnergxError('CLIENT_CLOSED', 'the client was disconnected', event)
            if not await self.wait_authenticated(max(0.0, deadline - time.monotonic())):
                if self._auth_failure:
                    raise QuantEnergxError(self._auth_failure.code, self._auth_failure.message, event)
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

    async def subscribe_to_market_data(self, commodities):
        """``subscribe-market``; the latest update of each commodity follows at once."""
        body = await self._request('subscribe-market', list(commodities))
        self._wanted['market'].update(body.get('commodities', []))
        return body

    async def unsubscribe_from_market_data(self, commodities):
        self._wanted['market'].difference_update(commodities)
        body = await self._request('unsubscribe-market', list(commodities))
        for c in commodities:
            self._market.pop(c, None)
            self._market_seqs.pop(c, None)
        return body

    async def _subscribe_private(self, channel, event, user_id):
        body = await self._request(event, user_id or self.user_id)
        self._wanted[channel].add(user_id or self.user_id)
        return body

    async def subscribe_to_trading_updates(self, user_id=None):
        """``join-trading`` and ``subscribe-orders``; returns both confirmations."""
        return (await self._subscribe_private('trading', 'join-trading', user_id),
                await self._subscribe_private('orders', 'subscribe-orders', user_id))

    async def subscribe_to_compliance_alerts(self, user_id=None):
        return await self._subscribe_private('compliance', 'subscribe-compliance', user_id)

    async def ping(self):
        return await self._request('ping')

    # ---- data ------------------------------------------------------------------------------

    @property
    def market(self):
        """The latest market data per commodity (a copy)."""
        return dict(self._market)

    def last_seqs(self):
        out = self._streams.positions()
        out.update({'market-' + c: s for c, s in self._market_seqs.items()})
        return out

    def _on_market_update(self, envelope):
        payload = envelope.get('payload', {})
        commodity, seq = payload.get('commodity'), envelope.get('seq')
        if isinstance(seq, int):
            last = self._market_seqs.get(commodity)
            if last is not None and seq <= last:
                self.stats['duplicates_dropped'] += 1
                return
            self._market_seqs[commodity] = seq
        self._market[commodity] = payload
        self._emit('market-update', envelope)

    def _on_private_event(self, event, envelope):
        seq = envelope.get('seq')
        if not isinstance(seq, int):
            return self._emit(event, envelope)
        stream = stream_of(event, envelope)
        had_gap = self._streams.gap(stream) is not None
        deliver, duplicate = self._streams.receive(stream, seq, (event, envelope))
        if duplicate:
            self.stats['duplicates_dropped'] += 1
        for ev, env in deliver:
            self._emit(ev, env)
        if self._streams.gap(stream) is not None:
            if stream not in self._gap_tasks:
                self._gap_tasks[stream] = self._spawn(self._fill_gap(stream, time.monotonic(), self.gap_grace))
        elif had_gap:
            self.stats['gaps_recovered'] += 1
            # its filler ends by itself (it may be waiting for an ack: not cancelled mid-request)
            self._gap_tasks.pop(stream, None)

    async def _fill_gap(self, stream, since, delay):
        """A hole: wait a moment (a reordering?), ask for a replay, and after ``gap_timeout`` read the
        event log and give up on what it no longer holds."""
        me = asyncio.current_task()
        while True:
            await asyncio.sleep(delay)
            if self._streams.gap(stream) is None or self._closed or self._gap_tasks.get(stream) is not me:
                break
            try:
                if time.monotonic() - since < self.gap_timeout:
                    if self.authenticated:
                        await self._resume([stream])
                else:
                    await self._read_log(stream, give_up=True)
            except QuantEnergxError as err:
                self._emit('error', err)
            if self._streams.gap(stream) is None or self._closed:
                break
            delay = self.gap_timeout / 2
        if self._gap_tasks.get(stream) is me:
            del self._gap_tasks[stream]

    async def _resume(self, only=None):
        """``resume {stream: lastSeq}``: the gateway replays what followed; a full replay is continued from REST."""
        entries = [(s, q) for s, q in self._streams.positions().items() if only is None or s in only]
        for i in range(0, len(entries), RESUME_CHUNK):
            chunk = dict(entries[i:i + RESUME_CHUNK])
            while chunk:
                try:
                    self.stats['resumes'] += 1
                    result = await self._call('resume', chunk)
                except QuantEnergxError as err:
                    if err.code in ('FORBIDDEN', 'INVALID_STREAM') and err.field in chunk:
                        chunk.pop(err.field)
                        self._streams.forget(err.field)
                        continue
                    raise
                for stream, r in result.get('streams', {}).items():
                    if r.get('replayed', 0) >= SERVER_REPLAY_LIMIT:
                        self._spawn(self._read_log(stream, False, r.get('lastSeq')))
                break

    async def _read_log(self, stream, give_up, after=None):
        """Reads a stream from the REST event log, through the same in-order path."""
        import aiohttp
        gap = self._streams.gap(stream)
        cursor = after if after is not None else (gap[0] if gap else self._streams.positions().get(stream))
        if cursor is None:
            return
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout))
        try:
            token = await self._current_token()
            while True:
                self.stats['log_reads'] += 1
                async with self._http.get(self.rest_url + '/api/v1/events',
                                          params={'stream': stream, 'after': cursor, 'limit': LOG_PAGE},
                                          headers={'Authorization': 'Bearer ' + token}) as res:
                    body = await res.json(content_type=None)
                    if res.status != 200:
                        raise QuantEnergxError.from_wire(body.get('error') if isinstance(body, dict) else None,
                                                         'events', res.status)
                for e in body['events']:
                    self._on_private_event(e['event'], e['envelope'])
                if not body.get('hasMore') or not body['events']:
                    break
                cursor = body['events'][-1]['seq']
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError, QuantEnergxError) as exc:
            self._emit('error', exc)
            return
        if give_up:
            while True:
                skipped = self._streams.skip_gap(stream)
                if skipped is None:
                    break
                deliver, (first, last) = skipped
                self.stats['events_lost'] += last - first + 1
                self._emit('stream-gap', stream, first, last)
                for ev, env in deliver:
                    self._emit(ev, env)
