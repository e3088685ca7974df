"""What the threaded and the asyncio clients share: options, handlers and event streams, what is
followed (and subscribed to again on a new session), in-order private streams, market data,
streamed books and the tape, and the decisions around ``resume`` and the event log. No I/O here:
each client does its own (threads or asyncio) around these, and the threaded client holds its lock
(``self._lock``) while the core's state changes.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import (Any, Callable, ContextManager, Dict, Generic, Iterable, List, Mapping, Optional, Protocol, Set, Tuple,
                    TypeVar, Union, cast)

from ._core import (DATA_EVENTS, LOG_PAGE, MARKET_CHUNK, RESUME_CHUNK, SERVER_REPLAY_LIMIT, OrderedStreams, QuantEnergxError,
                    check_token, is_expiring, rest_origin, stream_of)
from ._numbers import as_int
from .book import BookView, LocalBook
from .rest import Order, _build, _Endpoints, _outcome, _Spec

logger = logging.getLogger('quantenergx')

#: every event a handler can be added for
EVENTS = frozenset(DATA_EVENTS + ('connect', 'disconnect', 'auth-success', 'auth-error', 'request-error', 'disconnect-reason',
                                  'stream-gap', 'error', 'book', 'book-resync', 'market-trade',
                                  'market-status'))
#: the seed's methods, called with each envelope of their event (override them in a subclass)
SEED_HANDLERS = {'market-update': 'handle_market_update', 'trade-update': 'handle_trade_update',
                 'order-update': 'handle_order_update', 'system-alert': 'handle_system_alert',
                 'compliance-alert': 'handle_compliance_alert'}
PRIVATE_REQUESTS = {'trading': ('join-trading', 'leave-trading'), 'orders': ('subscribe-orders', 'unsubscribe-orders'),
                    'compliance': ('subscribe-compliance', 'unsubscribe-compliance')}

#: the scopes of ``cancel-on-disconnect``
CANCEL_ON_DISCONNECT_SCOPES = ('connection', 'account', 'off')
#: answers of the socket that mean "this socket cannot take it now": the call goes over REST at once
SOCKET_UNUSABLE = frozenset({'NOT_CONNECTED', 'NOT_AUTHENTICATED', 'TOKEN_EXPIRED'})

R = TypeVar('R')
Handler = Callable[..., Any]
#: a call to make again on a new session: (event, payload, what to do when the gateway refuses it)
Resubscription = Tuple[str, Any, Callable[[QuantEnergxError], None]]


class Sink(Protocol):
    """Where ``events()`` streams receive their items (a ``queue.Queue`` or an ``asyncio.Queue``)."""

    def put_nowait(self, item: Tuple[str, Tuple[Any, ...]]) -> None:
        """Queues one item."""


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def commodity_list(value: Any, what: str) -> List[str]:
    """One symbol or an iterable of them, as a list: ``'crude_oil'`` is one commodity, not eleven letters."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise QuantEnergxError('INVALID_PAYLOAD', '{}: expected a commodity symbol or a list of them, got {}'.format(
            what, type(value).__name__), what)
    items = list(value)
    if not all(isinstance(c, str) for c in items):
        raise QuantEnergxError('INVALID_PAYLOAD', '{}: every commodity must be a string'.format(what), what)
    return items


def unknown_event(event: Any) -> QuantEnergxError:
    """An event name no handler would ever be called for (``order_update``, the seed's spelling)."""
    hint = ''
    if isinstance(event, str) and event.replace('_', '-') in EVENTS:
        hint = "; did you mean '{}'?".format(event.replace('_', '-'))
    return QuantEnergxError('UNKNOWN_EVENT', 'no event {!r}{} (events: {})'.format(event, hint, ', '.join(sorted(EVENTS))))


class ClientCore:
    """The state and decisions of a QuantEnergx Realtime socket client (see the module doc)."""

    def __init__(self, url: str, user_id: str, token: Optional[str] = None,
                 get_token: Optional[Callable[[], Any]] = None, request_timeout: float = 10.0,
                 reconnection_delay: float = 0.5, reconnection_delay_max: float = 10.0, gap_grace: float = 0.3,
                 gap_timeout: float = 3.0, refresh_lead: float = 30.0, refresh_before_expiry: bool = True,
                 rest_url: Optional[str] = None, order_retries: int = 2) -> None:
        if not token and get_token is None:
            raise QuantEnergxError('TOKEN_UNAVAILABLE', '{} needs a token or get_token'.format(type(self).__name__))
        self.url = url
        self.user_id = user_id
        self.token = token
        self.get_token = get_token
        self.request_timeout = request_timeout
        self.reconnection_delay = reconnection_delay
        self.reconnection_delay_max = reconnection_delay_max
        self.gap_grace = gap_grace
        self.gap_timeout = gap_timeout
        self.refresh_lead = refresh_lead
        self.refresh_before_expiry = refresh_before_expiry
        self.rest_url = rest_url or rest_origin(url)
        self.order_retries = order_retries
        self._lock: ContextManager[Any] = _NoLock()
        self._handlers: Dict[str, List[Handler]] = {}
        self._sinks: Dict[str, List[Sink]] = {}
        self._streams: OrderedStreams[Tuple[str, Dict[str, Any]]] = OrderedStreams()
        self._market_seqs: Dict[str, int] = {}
        self._market: Dict[str, Dict[str, Any]] = {}
        self._wanted: Dict[str, Set[str]] = {'market': set(), 'trading': set(), 'orders': set(), 'compliance': set(),
                                             'status': set()}
        #: the latest market status per followed commodity (``subscribe_status``)
        self._statuses: Dict[str, Dict[str, Any]] = {}
        #: the cancel-on-disconnect scope asked for (asked again on every new session)
        self._cod_scope = 'off'
        self._wanted_books: Dict[str, int] = {}
        self._books: Dict[str, LocalBook] = {}
        self._resyncing: Set[str] = set()
        self._tapes: Set[str] = set()
        self._tape_seqs: Dict[str, int] = {}
        #: streams and commodities given up by the user: late events for them are ignored
        self._dropped: Set[str] = set()
        self._session = 0
        self._closed = False
        #: why the client gave up for good (refused credentials); cleared by connect()
        self._failure: Optional[QuantEnergxError] = None
        self._notice: Optional[Dict[str, Any]] = None
        self.stats: Dict[str, int] = {'duplicates_dropped': 0, 'gaps_recovered': 0, 'events_lost': 0, 'resumes': 0,
                                      'log_reads': 0, 'token_refreshes': 0, 'sessions': 0, 'book_resyncs': 0, 'restores': 0,
                                      'orders_over_socket': 0, 'orders_over_rest': 0}

    # ---- handlers and event streams ---------------------------------------------------------

    def on(self, event: str, handler: Handler) -> Callable[[], None]:
        """Adds a handler for an event (the class doc lists them); returns a function that removes
        it. An unknown event name (``order_update``) is refused: it would never be called."""
        if event not in EVENTS:
            raise unknown_event(event)
        if not callable(handler):
            raise QuantEnergxError('INVALID_PAYLOAD', 'handler must be callable', 'on')
        with self._lock:
            self._handlers.setdefault(event, []).append(handler)

        def off() -> None:
            with self._lock:
                if handler in self._handlers.get(event, []):
                    self._handlers[event].remove(handler)
        return off

    def setup_handlers(self) -> None:
        """The seed's method: registers the socket handlers. The client does this itself; a
        subclass may extend it (call ``super().setup_handlers()``)."""

    def handle_market_update(self, data: Dict[str, Any]) -> None:
        """The seed's method, called with each ``market-update`` envelope: override it in a subclass."""

    def handle_trade_update(self, data: Dict[str, Any]) -> None:
        """The seed's method, called with each ``trade-update`` envelope: override it in a subclass."""

    def handle_order_update(self, data: Dict[str, Any]) -> None:
        """The seed's method, called with each ``order-update`` envelope: override it in a subclass."""

    def handle_system_alert(self, data: Dict[str, Any]) -> None:
        """The seed's method, called with each ``system-alert`` envelope: override it in a subclass."""

    def handle_compliance_alert(self, data: Dict[str, Any]) -> None:
        """Called with each ``compliance-alert`` envelope, as the seed's ``handle_*``: override it in a subclass."""

    def _check_events(self, events: Tuple[str, ...]) -> Tuple[str, ...]:
        for event in events:
            if event not in EVENTS:
                raise unknown_event(event)
        return events or tuple(sorted(EVENTS))

    def _add_sink(self, events: Tuple[str, ...], sink: Sink) -> None:
        with self._lock:
            for event in events:
                self._sinks.setdefault(event, []).append(sink)

    def _remove_sink(self, sink: Sink) -> None:
        with self._lock:
            for sinks in self._sinks.values():
                if sink in sinks:
                    sinks.remove(sink)

    def _emit(self, event: str, *args: Any) -> None:
        """Hands an event out: at once to the ``events()`` streams, and in order to the handlers."""
        with self._lock:
            for sink in self._sinks.get(event, []):
                sink.put_nowait((event, args))
            self._queue_for_handlers(event, args)

    def _queue_for_handlers(self, event: str, args: Tuple[Any, ...]) -> None:
        raise NotImplementedError

    def _handlers_for(self, event: str) -> List[Handler]:
        """The handlers of an event, the seed's ``handle_*`` method last."""
        with self._lock:
            handlers = list(self._handlers.get(event, []))
        seed = SEED_HANDLERS.get(event)
        if seed is not None:
            handlers.append(getattr(self, seed))
        return handlers

    # ---- state --------------------------------------------------------------------------------

    @property
    def market(self) -> Dict[str, Dict[str, Any]]:
        """The latest market data per commodity (a copy)."""
        with self._lock:
            return dict(self._market)

    def last_seqs(self) -> Dict[str, int]:
        """The last seq received per stream (market streams as ``market-<commodity>``)."""
        with self._lock:
            out = self._streams.positions()
            out.update({'market-' + c: s for c, s in self._market_seqs.items()})
            return out

    def book(self, commodity: str) -> Optional[BookView]:
        """The streamed book of a commodity (``subscribe_book``) as the client holds it, or None before its snapshot."""
        with self._lock:
            book = self._books.get(commodity)
            return book.view() if book is not None else None

    def subscriptions(self) -> Dict[str, List[str]]:
        """What the client follows (and subscribes to again after a reconnect)."""
        with self._lock:
            out = {k: sorted(v) for k, v in self._wanted.items()}
            out['books'] = sorted(self._wanted_books)
            out['trades'] = sorted(self._tapes)
            return out

    # ---- tokens -------------------------------------------------------------------------------

    def _held_token(self) -> Optional[str]:
        """The token to offer without asking ``get_token``, or None when a fresh one is needed."""
        if self.token and not (self.get_token is not None and is_expiring(self.token, self.refresh_lead)):
            return self.token
        if self.get_token is None:
            if self.token:
                return self.token
            raise QuantEnergxError('TOKEN_UNAVAILABLE', 'no token, and no get_token to ask for one')
        return None

    def _keep_token(self, token: Any) -> str:
        self.token = check_token(token)
        return self.token

    # ---- subscriptions: what the gateway confirmed ---------------------------------------------

    def _private_payload(self, user_id: Optional[str]) -> str:
        user = self.user_id if user_id is None else user_id
        if not isinstance(user, str) or not user:
            raise QuantEnergxError('INVALID_PAYLOAD', 'user_id must be a non-empty string', field='userId')
        return user

    def _book_payload(self, commodity: Any, depth: Any = None) -> Dict[str, Any]:
        if not isinstance(commodity, str) or not commodity:
            raise QuantEnergxError('INVALID_PAYLOAD', 'commodity must be a commodity symbol', field='commodity')
        payload: Dict[str, Any] = {'commodity': commodity}
        if depth is not None:
            payload['depth'] = as_int(depth, 'depth')
        return payload

    def _subscribed(self, kind: str, key: str, extra: Any = None) -> None:
        with self._lock:
            if kind == 'market':
                self._wanted['market'].add(key)
                self._dropped.discard('market-' + key)
            elif kind == 'status':
                self._wanted['status'].add(key)
            elif kind == 'book':
                self._wanted_books[key] = int(extra)
            elif kind == 'trades':
                self._tapes.add(key)
            else:
                self._wanted[kind].add(key)
                self._dropped.discard('{}-{}'.format(kind, key))

    def _unsubscribed(self, kind: str, key: str) -> None:
        with self._lock:
            if kind == 'market':
                self._wanted['market'].discard(key)
                self._dropped.add('market-' + key)
                self._market.pop(key, None)
                self._market_seqs.pop(key, None)
            elif kind == 'status':
                self._wanted['status'].discard(key)
                self._statuses.pop(key, None)
            elif kind == 'book':
                self._wanted_books.pop(key, None)
                self._books.pop(key, None)
                self._resyncing.discard(key)
            elif kind == 'trades':
                self._tapes.discard(key)
                self._tape_seqs.pop(key, None)
            else:
                stream = '{}-{}'.format(kind, key)
                self._wanted[kind].discard(key)
                self._dropped.add(stream)
                self._streams.forget(stream)

    def _restore_plan(self) -> List[Resubscription]:
        """The calls that make a new session follow what the old one did; a refusal drops what it refused."""
        plan: List[Resubscription] = []
        with self._lock:
            markets = sorted(self._wanted['market'])
            for i in range(0, len(markets), MARKET_CHUNK):
                plan.append(('subscribe-market', markets[i:i + MARKET_CHUNK], self._refused_market(markets[i:i + MARKET_CHUNK])))
            for channel, (subscribe, _) in PRIVATE_REQUESTS.items():
                for user in sorted(self._wanted[channel]):
                    plan.append((subscribe, user, self._refused(channel, user)))
            for commodity, depth in sorted(self._wanted_books.items()):
                self._books.pop(commodity, None)
                plan.append(('subscribe-book', {'commodity': commodity, 'depth': depth}, self._refused('book', commodity)))
            if self._tapes:
                tapes = sorted(self._tapes)
                self._tape_seqs.clear()
                plan.append(('subscribe-trades', tapes, self._refused_trades(tapes)))
            statuses = sorted(self._wanted['status'])
            for i in range(0, len(statuses), MARKET_CHUNK):
                # the snapshot that follows is kept only when newer than the status held
                chunk = statuses[i:i + MARKET_CHUNK]
                plan.append(('subscribe-status', chunk, self._refused_status(chunk)))
        return plan

    def _restored(self, plan: List[Resubscription]) -> None:
        """A new session follows again what the old one did (counted in ``stats['restores']``)."""
        self.stats['restores'] += 1
        if plan:
            logger.info('subscribed again: %s', ', '.join('{} {}'.format(event, payload) for event, payload, _ in plan))

    def _refused(self, kind: str, key: str) -> Callable[[QuantEnergxError], None]:
        def drop(err: QuantEnergxError) -> None:
            if _final(err):
                self._unsubscribed(kind, key)
            self._emit('error', err)
        return drop

    def _refused_market(self, chunk: List[str]) -> Callable[[QuantEnergxError], None]:
        def drop(err: QuantEnergxError) -> None:
            # one bad symbol fails the whole list: drop only the symbols the error names
            if _final(err):
                named = [c for c in chunk if c in err.message] or (chunk if err.code != 'UNKNOWN_COMMODITY' else [])
                for c in named:
                    self._unsubscribed('market', c)
            self._emit('error', err)
        return drop

    def _refused_status(self, chunk: List[str]) -> Callable[[QuantEnergxError], None]:
        def drop(err: QuantEnergxError) -> None:
            if _final(err):
                for c in [c for c in chunk if c in err.message] or chunk:
                    self._unsubscribed('status', c)
            self._emit('error', err)
        return drop

    def _refused_trades(self, chunk: List[str]) -> Callable[[QuantEnergxError], None]:
        def drop(err: QuantEnergxError) -> None:
            if _final(err):
                for c in [c for c in chunk if c in err.message] or chunk:
                    self._unsubscribed('trades', c)
            self._emit('error', err)
        return drop

    # ---- data ---------------------------------------------------------------------------------

    def _on_market_update(self, envelope: Dict[str, Any]) -> None:
        with self._lock:
            payload = envelope.get('payload') or {}
            commodity, seq = payload.get('commodity'), envelope.get('seq')
            if not isinstance(commodity, str) or 'market-' + commodity in self._dropped:
                return
            if isinstance(seq, int):
                last = self._market_seqs.get(commodity)
                if last is not None and seq <= last:
                    self.stats['duplicates_dropped'] += 1
                    return
                self._market_seqs[commodity] = seq
            self._market[commodity] = payload
            self._emit('market-update', envelope)

    def _on_private_event(self, event: str, envelope: Dict[str, Any]) -> None:
        with self._lock:
            seq = envelope.get('seq')
            if not isinstance(seq, int):
                self._emit(event, envelope)
                return
            stream = stream_of(event, envelope)
            if stream in self._dropped:
                return
            had_gap = self._streams.gap(stream) is not None
            deliver, duplicate = self._streams.receive(stream, seq, (event, envelope))
            if duplicate:
                self.stats['duplicates_dropped'] += 1
            for ev, env in deliver:
                self._emit(ev, env)
            if self._streams.gap(stream) is not None:
                self._gap_opened(stream)
            elif had_gap:
                self.stats['gaps_recovered'] += 1
                self._gap_closed(stream)

    def _gap_opened(self, stream: str) -> None:
        """A hole in a private stream: the client schedules its filling."""
        raise NotImplementedError

    def _gap_closed(self, stream: str) -> None:
        """The hole is filled: the client stops its filling."""

    def _on_book_snapshot(self, snapshot: Dict[str, Any]) -> None:
        with self._lock:
            commodity = snapshot.get('commodity')
            if commodity not in self._wanted_books:
                return
            book = LocalBook(snapshot)
            self._books[book.commodity] = book
            self._resyncing.discard(book.commodity)
            self._emit('book', book.view())

    def _on_book_update(self, update: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Applies a delta; returns the ``subscribe-book`` payload to send when the copy is wrong."""
        with self._lock:
            commodity = update.get('commodity')
            book = self._books.get(commodity) if isinstance(commodity, str) else None
            if book is None or book.commodity in self._resyncing:
                return None  # a fresh snapshot is on its way
            result = book.apply(update)
            if result == 'stale':
                return None
            if result == 'applied':
                self._emit('book', book.view())
                return None
            # the copy cannot be trusted any more: ask for a fresh snapshot (the gateway re-sends one)
            self.stats['book_resyncs'] += 1
            self._resyncing.add(book.commodity)
            self._emit('book-resync', book.commodity, result)
            return {'commodity': book.commodity, 'depth': self._wanted_books.get(book.commodity, book.depth)}

    def _resync_failed(self, commodity: str, err: QuantEnergxError) -> None:
        with self._lock:
            self._resyncing.discard(commodity)
        self._emit('error', err)

    def _on_market_trade(self, trade: Dict[str, Any]) -> None:
        with self._lock:
            commodity, seq = trade.get('commodity'), trade.get('seq')
            if commodity not in self._tapes:
                return
            if isinstance(seq, int) and isinstance(commodity, str):
                last = self._tape_seqs.get(commodity)
                if last is not None and seq <= last:
                    self.stats['duplicates_dropped'] += 1
                    return
                self._tape_seqs[commodity] = seq
            self._emit('market-trade', trade)

    def _on_market_status(self, status: Dict[str, Any]) -> None:
        """A ``market-status`` (snapshot or change): kept and handed out when newer than the one held."""
        with self._lock:
            commodity = status.get('commodity') if isinstance(status, dict) else None
            if not isinstance(commodity, str) or commodity not in self._wanted['status']:
                return  # not followed (any more)
            if not is_newer_status(self._statuses.get(commodity), status):
                return
            self._statuses[commodity] = status
            self._emit('market-status', status)

    def _statuses_fetched(self, rows: List[Dict[str, Any]]) -> None:
        """Rows of ``GET /api/v1/market/status``: those of followed commodities update the state."""
        for row in rows:
            self._on_market_status(row)

    def market_status(self, commodity: str) -> Optional[Dict[str, Any]]:
        """The latest ``market-status`` of a commodity followed with ``subscribe_status`` —
        ``{commodity, status ('open', 'halted', 'closed'), reason, since, until?, seq}`` — or None."""
        with self._lock:
            status = self._statuses.get(commodity)
            return dict(status) if status is not None else None

    @property
    def market_statuses(self) -> Dict[str, Dict[str, Any]]:
        """The latest market status of each followed commodity (a copy)."""
        with self._lock:
            return {c: dict(s) for c, s in self._statuses.items()}

    def accepts_orders(self, commodity: str) -> bool:
        """Whether new orders of ``commodity`` would be accepted as far as its status says: ``open``,
        or no status known (not followed: the gateway still answers ``MARKET_HALTED``)."""
        status = self.market_status(commodity)
        return status is None or status.get('status') == 'open'

    @property
    def cancel_on_disconnect_scope(self) -> str:
        """The cancel-on-disconnect scope asked for (``'off'`` until :meth:`cancel_on_disconnect`)."""
        return self._cod_scope

    def _on_disconnect_reason(self, notice: Dict[str, Any]) -> None:
        self._notice = notice
        self._emit('disconnect-reason', notice)

    def _take_notice(self) -> Optional[Dict[str, Any]]:
        notice, self._notice = self._notice, None
        return notice

    # ---- resume and the event log --------------------------------------------------------------

    def _resume_chunks(self, only: Optional[Iterable[str]] = None) -> List[Dict[str, int]]:
        wanted = None if only is None else set(only)
        with self._lock:
            entries = [(s, q) for s, q in sorted(self._streams.positions().items()) if wanted is None or s in wanted]
        return [dict(entries[i:i + RESUME_CHUNK]) for i in range(0, len(entries), RESUME_CHUNK)]

    def _resume_refused(self, err: QuantEnergxError, chunk: Dict[str, int]) -> bool:
        """A stream the gateway no longer has us in: stop tracking it and resume the others."""
        if err.code in ('FORBIDDEN', 'INVALID_STREAM') and err.field in chunk:
            chunk.pop(err.field)
            with self._lock:
                self._streams.forget(err.field)
            return True
        return False

    def _resumed(self, result: Mapping[str, Any]) -> List[Tuple[str, Optional[int]]]:
        """The streams of a ``resumed`` answer whose replay was full: the rest is in the event log."""
        streams = result.get('streams') or {}
        full = [(s, r.get('lastSeq')) for s, r in streams.items() if isinstance(r, dict) and r.get('replayed', 0) >= SERVER_REPLAY_LIMIT]
        if streams:
            logger.info('resumed %d stream(s): %s', len(streams), ', '.join(
                '{} (+{})'.format(s, r.get('replayed', 0)) for s, r in sorted(streams.items()) if isinstance(r, dict)))
        return full

    def _log_cursor(self, stream: str, after: Optional[int]) -> Optional[int]:
        with self._lock:
            if after is not None:
                return after
            gap = self._streams.gap(stream)
            return gap[0] if gap else self._streams.positions().get(stream)

    def _log_params(self, stream: str, cursor: int) -> Dict[str, Union[str, int]]:
        self.stats['log_reads'] += 1
        return {'stream': stream, 'after': cursor, 'limit': LOG_PAGE}

    def _log_page(self, body: Any) -> Optional[int]:
        """Feeds a page of the event log through the in-order path; the next cursor, or None at the end."""
        if not isinstance(body, dict) or not isinstance(body.get('events'), list):
            raise QuantEnergxError('INVALID_RESPONSE', 'the event log answered {!r}'.format(body)[:200], 'events')
        events = body['events']
        for e in events:
            self._on_private_event(e['event'], e['envelope'])
        if not body.get('hasMore') or not events:
            return None
        return int(events[-1]['seq'])

    def _give_up(self, stream: str) -> None:
        """What the event log no longer holds is reported once as ``stream-gap`` and skipped."""
        with self._lock:
            while True:
                skipped = self._streams.skip_gap(stream)
                if skipped is None:
                    return
                deliver, (first, last) = skipped
                self.stats['events_lost'] += last - first + 1
                self._emit('stream-gap', stream, first, last)
                for ev, env in deliver:
                    self._emit(ev, env)

    def _gap_of(self, stream: str) -> bool:
        with self._lock:
            return self._streams.gap(stream) is not None


def _final(err: QuantEnergxError) -> bool:
    """A refusal another attempt would not change (not a timeout, a rate limit or a lapsed token)."""
    return err.code not in ('REQUEST_TIMEOUT', 'RATE_LIMITED', 'TOKEN_EXPIRED', 'NOT_AUTHENTICATED', 'NOT_CONNECTED')


def new_lock() -> ContextManager[Any]:
    """The threaded client's lock (re-entrant: handlers of the core call back into it)."""
    return threading.RLock()


def is_newer_status(held: Optional[Mapping[str, Any]], incoming: Mapping[str, Any]) -> bool:
    """Whether ``incoming`` replaces ``held``: a higher ``seq`` (+1 per change of the commodity), or a
    later ``since`` (a gateway whose count started again); the same status again does not."""
    if held is None:
        return True
    since_in, since_held = _epoch(incoming.get('since')), _epoch(held.get('since'))
    seq_in, seq_held = incoming.get('seq'), held.get('seq')
    if seq_in != seq_held and isinstance(seq_in, int) and isinstance(seq_held, int):
        return seq_in > seq_held or since_in > since_held
    return since_in > since_held


def _epoch(value: Any) -> float:
    try:
        return datetime.fromisoformat(str(value).replace('Z', '+00:00')).timestamp()
    except ValueError:
        return 0.0


def cancel_on_disconnect_payload(scope: Any) -> Dict[str, str]:
    """``{scope}`` of ``cancel-on-disconnect``; a scope the gateway does not take is refused here."""
    if not isinstance(scope, str) or scope not in CANCEL_ON_DISCONNECT_SCOPES:
        raise QuantEnergxError('INVALID_PAYLOAD', 'cancel_on_disconnect: scope must be "connection", "account" or "off", '
                                                  'got {!r}'.format(scope), 'cancel-on-disconnect', 'scope')
    return {'scope': scope}


# ---- order entry: one call, over the socket or REST ------------------------------------------------


def _socket_json(value: Any) -> Any:
    """A payload python-socketio's ``json`` can write: a ``Decimal`` price as the float JSON would
    read from its digits (the gateway parses either to the same double)."""
    if isinstance(value, dict):
        return {k: _socket_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_socket_json(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


@dataclass(frozen=True)
class OrderCall(Generic[R]):
    """One order call, whichever way it travels: the socket event and payload, and the REST call
    (``spec``: how its answer — the same body as the ack's — is read, whether it may be sent again)."""

    what: str
    event: str
    payload: Any
    spec: '_Spec[R]'

    @staticmethod
    def place(commodity: str, side: str, quantity: Any, price: Any, order_type: Optional[str], time_in_force: Optional[str],
              client_order_id: Optional[str]) -> 'OrderCall[Order]':
        """``place-order``; the ``clientOrderId`` (generated when not given) is fixed here, for every attempt."""
        spec = _Endpoints.place_order(commodity, side, quantity, price, order_type, time_in_force, client_order_id)
        return OrderCall('place_order', 'place-order', _socket_json(spec.body), spec)

    @staticmethod
    def cancel(order_id: str) -> 'OrderCall[Order]':
        """``cancel-order``."""
        return OrderCall('cancel_order', 'cancel-order', {'orderId': str(order_id)}, _Endpoints.cancel_order(order_id))

    @staticmethod
    def amend(order_id: str, price: Any, quantity: Any) -> 'OrderCall[Order]':
        """``amend-order``: a new price and/or a new total quantity."""
        spec = _Endpoints.amend_order(order_id, price, quantity)
        return OrderCall('amend_order', 'amend-order', _socket_json(dict(spec.body, orderId=str(order_id))), spec)

    @staticmethod
    def cancel_all(commodity: Optional[str]) -> 'OrderCall[List[Order]]':
        """``cancel-all-orders`` (of one commodity)."""
        return OrderCall('cancel_all', 'cancel-all-orders', {} if commodity is None else {'commodity': commodity},
                         _Endpoints.cancel_all(commodity))

    @staticmethod
    def cancel_all_after(timeout_ms: Any) -> 'OrderCall[Dict[str, Any]]':
        """``cancel-all-after``: the dead-man's switch (``0`` disarms)."""
        spec = _Endpoints.cancel_all_after(timeout_ms)
        return OrderCall('cancel_all_after', 'cancel-all-after', spec.body, spec)

    def answered(self, response: Any) -> R:
        """The result of an ack (the same body as REST's), or the coded error it stands for (with
        the order it was refused with); an order that could not fill is a result."""
        if isinstance(response, dict) and response.get('ok'):
            return self.spec.parse({k: v for k, v in response.items() if k != 'ok'})
        err = QuantEnergxError.from_wire(response.get('error') if isinstance(response, dict) else None, self.event)
        err.body = response
        if isinstance(response, dict) and isinstance(response.get('order'), dict):
            try:
                err.order = _build(Order, response['order'])
            except QuantEnergxError:
                err.order = None
        outcome = _outcome(self.spec, err, False)
        if outcome is not None:
            return cast(R, outcome)
        raise err

    def retried_outcome(self, err: QuantEnergxError) -> Optional[R]:
        """A retry answered "not cancellable, cancelled": the first attempt went through; that is the result."""
        return cast(Optional[R], _outcome(self.spec, err, True))


# ---- the dead-man's switch -----------------------------------------------------------------------


class _Wake(Protocol):
    """What both switches wait on between arms (``threading.Event`` or ``asyncio.Event``)."""

    def set(self) -> None: ...


class DeadManCore:
    """What both dead-man's switches share: their settings, checked, and what the gateway answered."""

    _wake: _Wake

    def __init__(self, timeout_ms: Any, every_ms: Any = None, on_error: Optional[Callable[[QuantEnergxError], None]] = None) -> None:
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0:
            raise QuantEnergxError('INVALID_PAYLOAD', 'dead_man_switch: timeout_ms must be a whole number of milliseconds '
                                                      'above 0, got {!r}'.format(timeout_ms), 'cancel-all-after', 'timeoutMs')
        every = timeout_ms // 3 if every_ms is None else every_ms
        if isinstance(every, bool) or not isinstance(every, (int, float)) or not 50 <= every < timeout_ms:
            raise QuantEnergxError('INVALID_PAYLOAD', 'dead_man_switch: every_ms must be at least 50 and less than timeout_ms '
                                                      '({}), got {!r}'.format(timeout_ms, every), 'cancel-all-after', 'every')
        #: cancel all the user's open orders unless re-armed within this time
        self.timeout_ms: int = timeout_ms
        #: re-armed this often
        self.every_ms: float = every
        #: when the gateway cancels the user's open orders unless re-armed (ISO-8601; None once disarmed)
        self.fires_at: Optional[str] = None
        #: times the gateway accepted an arm (the first included)
        self.arms = 0
        #: still re-arming
        self.active = True
        self._on_error = on_error

    def rearm_now(self) -> None:
        """Re-arms at once (right after an arm in flight), then every ``every_ms`` again."""
        if self.active:
            self._wake.set()

    def _halt(self) -> None:
        self.active = False
        self._wake.set()

    def _armed(self, ack: Mapping[str, Any]) -> None:
        self.fires_at = ack.get('firesAt')
        if isinstance(ack.get('timeoutMs'), int) and ack['timeoutMs'] > 0:
            self.arms += 1

    def _report(self, client: ClientCore, err: QuantEnergxError) -> None:
        if self._on_error is not None:
            try:
                self._on_error(err)
                return
            except Exception:  # a callback's bug must not stop the switch
                logger.exception('dead_man_switch on_error failed')
        client._emit('error', err)
