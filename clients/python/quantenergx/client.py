"""The threaded client: :class:`QuantEnergxWebSocket`, the seed's Python client done right, on
python-socketio (5.x).

    ws = QuantEnergxWebSocket('http://localhost:3001', 'user-123', get_token=fetch_token)
    ws.on('market-update', lambda envelope: print(envelope['payload']))
    ws.connect()                                   # connects and authenticates
    ws.subscribe_to_market_data(['crude_oil', 'natural_gas'])
    ws.subscribe_to_trading_updates()

What it adds to the seed: hyphenated events are really listened to (``auth-success``, not
``auth_success``); requests use acknowledgements and raise ``QuantEnergxError`` with the gateway's
code; every (re)connect authenticates again, re-subscribes and resumes each private stream from its
last sequence number, so no order, trade or alert is lost; duplicates (seq at or below the last
one) are dropped and out-of-order events are held until the missing ones arrive; an expired token
is refreshed through ``get_token``; all state is guarded by a lock (python-socketio runs each
incoming message on its own thread).
"""

import logging
import threading
import time

import requests
import socketio

from ._core import (FATAL_AUTH_CODES, LOG_PAGE, RESUME_CHUNK, RETRY_CODES, SERVER_REPLAY_LIMIT, OrderedStreams,
                    QuantEnergxError, ack_body, connect_error, is_expiring, refresh_delay, request_error,
                    rest_origin, stream_of)

__all__ = ['QuantEnergxWebSocket', 'QuantEnergxError']

logger = logging.getLogger('quantenergx')


class QuantEnergxWebSocket:
    """A QuantEnergx Realtime client (threads). Handlers are set with ``on(event, fn)``.

    Events: the data events (``market-update``, ``trade-update``, ``order-update``,
    ``system-alert``, ``compliance-alert``; each handler gets the envelope), ``connect``,
    ``disconnect``, ``auth-success``, ``auth-error`` (a QuantEnergxError), ``request-error`` (a
    QuantEnergxError), ``disconnect-reason`` (the gateway's notice), ``stream-gap`` (stream, first,
    last: events the gateway no longer holds), ``error`` (an exception from the background).
    """

    def __init__(self, url, user_id, token=None, get_token=None, request_timeout=10.0,
                 reconnection_delay=0.5, reconnection_delay_max=10.0, gap_grace=0.3, gap_timeout=3.0,
                 refresh_lead=30.0, refresh_before_expiry=True, rest_url=None):
        if not token and not get_token:
            raise ValueError('QuantEnergxWebSocket needs a token or get_token')
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
        self.sio = socketio.Client(reconnection=True, reconnection_attempts=0,
                                   reconnection_delay=reconnection_delay,
                                   reconnection_delay_max=reconnection_delay_max,
                                   randomization_factor=0.5)
        self._lock = threading.RLock()
        self._handlers = {}
        self._streams = OrderedStreams()
        self._market_seqs = {}
        self._market = {}
        self._wanted = {'market': set(), 'trading': set(), 'orders': set(), 'compliance': set()}
        self._authenticated = threading.Event()
        self._auth_failure = None
        self._session = 0
        self._closed = False
        self._gap_timers = {}
        self._refresh_timer = None
        self._refreshing = threading.Lock()
        self._notice = None
        self.stats = {'duplicates_dropped': 0, 'gaps_recovered': 0, 'events_lost': 0, 'resumes': 0,
                      'log_reads': 0, 'token_refreshes': 0, 'sessions': 0}
        self.setup_handlers()

    # ---- handlers --------------------------------------------------------------------------

    def on(self, event, handler):
        """Adds a handler for an event (see the class doc); returns a function that removes it."""
        with self._lock:
            self._handlers.setdefault(event, []).append(handler)

        def off():
            with self._lock:
                if handler in self._handlers.get(event, []):
                    self._handlers[event].remove(handler)
        return off

    def _emit(self, event, *args):
        with self._lock:
            handlers = list(self._handlers.get(event, []))
        for handler in handlers:
            try:
                handler(*args)
            except Exception as exc:  # a handler's bug must not break the client
                logger.exception('%s handler failed', event)
                if event != 'error':
                    self._emit('error', exc)

    def setup_handlers(self):
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

    def connect(self, wait=True, timeout=10.0):
        """Connects (WebSocket first) and, with ``wait``, returns once authenticated."""
        self._closed = False
        self._auth_failure = None
        self.sio.connect(self.url, transports=['websocket', 'polling'], wait_timeout=timeout)
        if wait:
            if not self._authenticated.wait(timeout):
                raise QuantEnergxError(self._auth_failure.code if self._auth_failure else 'REQUEST_TIMEOUT',
                                       'not authenticated within {} s'.format(timeout))
        return self

    def wait_authenticated(self, timeout=None):
        return self._authenticated.wait(timeout)

    @property
    def connected(self):
        return self.sio.connected

    @property
    def authenticated(self):
        return self.sio.connected and self._authenticated.is_set()

    def disconnect(self):
        self._closed = True
        with self._lock:
            for timer in self._gap_timers.values():
                timer.cancel()
            self._gap_timers.clear()
            if self._refresh_timer:
                self._refresh_timer.cancel()
        self.sio.disconnect()

    def _on_connect(self):
        with self._lock:
            self._session += 1
            session = self._session
            self.stats['sessions'] += 1
        self._authenticated.clear()
        self._emit('connect')
        # not on this thread: it must return for python-socketio to finish connecting
        self.sio.start_background_task(self._start_session, session)

    def _on_disconnect(self):
        self._authenticated.clear()
        notice, self._notice = self._notice, None
        self._emit('disconnect', notice)

    def _on_disconnect_reason(self, notice):
        self._notice = notice
        self._emit('disconnect-reason', notice)

    def _start_session(self, session):
        """Every connection is a new session: authenticate, subscribe again, resume every stream."""
        try:
            self.authenticate()
        except QuantEnergxError as err:
            if err.code == 'TOKEN_EXPIRED' and self.get_token:
                self.token = None
                try:
                    self.authenticate()
                except QuantEnergxError as again:
                    return self._auth_failed(again)
            elif err.code in FATAL_AUTH_CODES or err.code == 'TOKEN_EXPIRED':
                return self._auth_failed(err)
            else:
                return self._emit('error', err)
        with self._lock:
            wanted = {k: sorted(v) for k, v in self._wanted.items()}
        try:
            if wanted['market']:
                self._call('subscribe-market', wanted['market'])
            for user in wanted['trading']:
                self._call('join-trading', user)
            for user in wanted['orders']:
                self._call('subscribe-orders', user)
            for user in wanted['compliance']:
                self._call('subscribe-compliance', user)
            self._resume()
        except QuantEnergxError as err:
            if session == self._session:
                self._emit('error', err)

    def _auth_failed(self, err):
        self._auth_failure = err
        self._emit('error', err)
        self._closed = True
        self.sio.disconnect()

    def authenticate(self):
        """The seed's ``authenticate`` event; returns the ``auth-success`` payload."""
        body = self._call('authenticate', {'userId': self.user_id, 'token': self._current_token()})
        self._authenticated.set()
        self._schedule_refresh(body.get('expiresAt'))
        return body

    def _current_token(self):
        if self.token and not (self.get_token and is_expiring(self.token, self.refresh_lead)):
            return self.token
        if self.get_token:
            self.token = self.get_token()
            return self.token
        raise QuantEnergxError('TOKEN_UNAVAILABLE', 'no token')

    def refresh_token(self):
        """Fetches a fresh token with ``get_token`` and authenticates again on the same connection."""
        if not self.get_token or not self._refreshing.acquire(blocking=False):
            return
        try:
            self.token = self.get_token()
            self.stats['token_refreshes'] += 1
            if self.sio.connected:
                self.authenticate()
        except QuantEnergxError as err:
            self._emit('error', err)
        finally:
            self._refreshing.release()

    def _schedule_refresh(self, expires_at):
        if not self.get_token or not expires_at or not self.refresh_before_expiry:
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

    def _on_auth_error(self, data):
        err = QuantEnergxError(data.get('code', 'INVALID_TOKEN'), data.get('message', ''), 'authenticate')
        self._emit('auth-error', err)
        if err.code == 'TOKEN_EXPIRED' and self._authenticated.is_set():
            # the gateway suspended our private rooms; a fresh token restores them (and replays)
            self._authenticated.clear()
            self.sio.start_background_task(self._refresh_after_expiry)

    def _refresh_after_expiry(self):
        self.refresh_token()
        if self.authenticated:
            try:
                self._resume()
            except QuantEnergxError as err:
                self._emit('error', err)

    # ---- requests --------------------------------------------------------------------------

    def _call(self, event, data=None):
        """Emits with an acknowledgement; returns the confirmation or raises QuantEnergxError."""
        try:
            response = self.sio.call(event, data, timeout=self.request_timeout)
        except socketio.exceptions.TimeoutError:
            raise QuantEnergxError('REQUEST_TIMEOUT', '{}: no answer'.format(event), event)
        except socketio.exceptions.BadNamespaceError:
            raise QuantEnergxError('NOT_CONNECTED', '{}: not connected'.format(event), event)
        return ack_body(response, event)

    def _request(self, event, data=None):
        """A user request: waits for authentication, and is sent again after a reconnect."""
        deadline = time.monotonic() + self.request_timeout * 3
        while True:
            if self._closed:
                raise QuantEnergxError('CLIENT_CLOSED', 'the client was disconnected', event)
            if not self._authenticated.wait(max(0.0, deadline - time.monotonic())):
                raise QuantEnergxError('REQUEST_TIMEOUT', '{}: not authenticated'.format(event), event)
            try:
                return self._call(event, data)
            except QuantEnergxError as err:
                retry = err.code in RETRY_CODES or \
                    (err.code == 'REQUEST_TIMEOUT' and not self.sio.connected)
                if not retry or time.monotonic() > deadline:
                    raise
                if err.code in ('TOKEN_EXPIRED', 'NOT_AUTHENTICATED'):
                    self._authenticated.clear()
                    self.sio.start_background_task(self._refresh_after_expiry)
                time.sleep(0.05)

    def subscribe_to_market_data(self, commodities):
        """``subscribe-market``; the latest update of each commodity follows at once."""
        body = self._request('subscribe-market', list(commodities))
        with self._lock:
            self._wanted['market'].update(body.get('commodities', []))
        return body

    def unsubscribe_from_market_data(self, commodities):
        with self._lock:
            self._wanted['market'].difference_update(commodities)
        body = self._request('unsubscribe-market', list(commodities))
        with self._lock:
            for c in commodities:
                self._market.pop(c, None)
                self._market_seqs.pop(c, None)
        return body

    def _subscribe_private(self, channel, event, user_id):
        body = self._request(event, user_id or self.user_id)
        with self._lock:
            self._wanted[channel].add(user_id or self.user_id)
        return body

    def subscribe_to_trading_updates(self, user_id=None):
        """``join-trading`` and ``subscribe-orders``; returns both confirmations."""
        return (self._subscribe_private('trading', 'join-trading', user_id),
                self._subscribe_private('orders', 'subscribe-orders', user_id))

    def subscribe_to_compliance_alerts(self, user_id=None):
        return self._subscribe_private('compliance', 'subscribe-compliance', user_id)

    def ping(self):
        return self._request('ping')

    # ---- data ------------------------------------------------------------------------------

    @property
    def market(self):
        """The latest market data per commodity (a copy)."""
        with self._lock:
            return dict(self._market)

    def last_seqs(self):
        with self._lock:
            out = self._streams.positions()
            out.update({'market-' + c: s for c, s in self._market_seqs.items()})
            return out

    def _on_market_update(self, envelope):
        with self._lock:
            payload = envelope.get('payload', {})
            commodity, seq = payload.get('commodity'), envelope.get('seq')
            if isinstance(seq, int):
                last = self._market_seqs.get(commodity)
                if last is not None and seq <= last:
                    self.stats['duplicates_dropped'] += 1
                    return
                self._market_seqs[commodity] = seq
            self._market[commodity] = payload
            # delivered under the lock: handlers see updates in order
            self._emit('market-update', envelope)

    def _on_private_event(self, event, envelope):
        with self._lock:
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
                self._on_gap(stream)
            elif had_gap:
                self.stats['gaps_recovered'] += 1
                timer = self._gap_timers.pop(stream, None)
                if timer:
                    timer.cancel()

    def _on_gap(self, stream):
        # events are handled on one thread each, so a gap may only be a reordering: wait a moment
        if stream in self._gap_timers:
            return
        timer = threading.Timer(self.gap_grace, self._fill_gap, (stream, time.monotonic()))
        timer.daemon = True
        self._gap_timers[stream] = timer
        timer.start()

    def _fill_gap(self, stream, since):
        with self._lock:
            self._gap_timers.pop(stream, None)
            if self._streams.gap(stream) is None or self._closed:
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
            if self._streams.gap(stream) is not None and stream not in self._gap_timers and not self._closed:
                timer = threading.Timer(self.gap_timeout / 2, self._fill_gap, (stream, since))
                timer.daemon = True
                self._gap_timers[stream] = timer
                timer.start()

    def _resume(self, only=None):
        """``resume {stream: lastSeq}``: the gateway replays what followed; a full replay is continued from REST."""
        with self._lock:
            entries = [(s, q) for s, q in self._streams.positions().items() if only is None or s in only]
        for i in range(0, len(entries), RESUME_CHUNK):
            chunk = dict(entries[i:i + RESUME_CHUNK])
            while chunk:
                try:
                    self.stats['resumes'] += 1
                    result = self._call('resume', chunk)
                except QuantEnergxError as err:
                    if err.code in ('FORBIDDEN', 'INVALID_STREAM') and err.field in chunk:
                        chunk.pop(err.field)
                        with self._lock:
                            self._streams.forget(err.field)
                        continue
                    raise
                for stream, r in result.get('streams', {}).items():
                    if r.get('replayed', 0) >= SERVER_REPLAY_LIMIT:
                        self.sio.start_background_task(self._read_log, stream, False, r.get('lastSeq'))
                break

    def _read_log(self, stream, give_up, after=None):
        """Reads a stream from the REST event log, through the same in-order path."""
        with self._lock:
            gap = self._streams.gap(stream)
            cursor = after if after is not None else (gap[0] if gap else self._streams.positions().get(stream))
        if cursor is None:
            return
        try:
            token = self._current_token()
            while True:
                self.stats['log_reads'] += 1
                res = requests.get(self.rest_url + '/api/v1/events',
                                   params={'stream': stream, 'after': cursor, 'limit': LOG_PAGE},
                                   headers={'Authorization': 'Bearer ' + token}, timeout=self.request_timeout)
                body = res.json()
                if res.status_code != 200:
                    raise QuantEnergxError.from_wire(body.get('error'), 'events', res.status_code)
                for e in body['events']:
                    self._on_private_event(e['event'], e['envelope'])
                if not body.get('hasMore') or not body['events']:
                    break
                cursor = body['events'][-1]['seq']
        except (requests.RequestException, ValueError, QuantEnergxError) as exc:
            self._emit('error', exc)
            return
        if give_up:
            with self._lock:
                while True:
                    skipped = self._streams.skip_gap(stream)
                    if skipped is None:
                        break
                    deliver, (first, last) = skipped
                    self.stats['events_lost'] += last - first + 1
                    self._emit('stream-gap', stream, first, last)
                    for ev, env in deliver:
                        self._emit(ev, env)
