"""What every part of the package shares: the coded error, in-order delivery per stream, stream
names, token expiry, the answers of acks. No I/O here."""

import base64
import json
import time
from datetime import datetime
from typing import Any, Dict, Generic, List, Mapping, Optional, Tuple, TypeVar

SYSTEM_STREAM = 'system'
PRIVATE_STREAM_OF = {'trade-update': 'trading', 'order-update': 'orders', 'compliance-alert': 'compliance'}
DATA_EVENTS = ('market-update', 'trade-update', 'order-update', 'system-alert', 'compliance-alert')
FATAL_AUTH_CODES = frozenset({'INVALID_AUTH_DATA', 'INVALID_TOKEN', 'USER_MISMATCH', 'USER_SWITCH_REFUSED',
                              'TOKEN_UNAVAILABLE'})
RETRY_CODES = frozenset({'NOT_CONNECTED', 'TOKEN_EXPIRED', 'NOT_AUTHENTICATED'})
RESUME_CHUNK = 16      # the gateway accepts at most 16 streams per resume
LOG_PAGE = 1000        # REST event log page size
SERVER_REPLAY_LIMIT = 1000  # a resume replays at most this many events per stream
MARKET_CHUNK = 32      # the gateway's MAX_COMMODITIES_PER_REQUEST default

T = TypeVar('T')


class QuantEnergxError(Exception):
    """An error answered by the gateway (``code`` from its catalogue: ``UNKNOWN_COMMODITY``,
    ``FORBIDDEN``, ``INVALID_ORDER``, ...) or decided by the client (``REQUEST_TIMEOUT``,
    ``NOT_CONNECTED``, ``CONNECT_FAILED``, ``CLIENT_CLOSED``, ``TOKEN_UNAVAILABLE``, ``HTTP_ERROR``,
    ``INVALID_RESPONSE``, ``UNKNOWN_EVENT``, ``INVALID_PAYLOAD`` / ``INVALID_ORDER`` for arguments).

    ``event`` is the request that failed, ``field`` the payload field at fault (when the gateway
    named one), ``status`` the HTTP status of a REST error, ``retry_after`` the seconds to wait
    before trying again (``RATE_LIMITED``), ``order`` the order a refused order call was answered
    with, ``body`` the whole REST answer. The underlying exception, if any, is ``__cause__``.
    """

    def __init__(self, code: str, message: str, event: Optional[str] = None, field: Optional[str] = None,
                 status: Optional[int] = None, retry_after: Optional[float] = None) -> None:
        super().__init__('{}: {}'.format(code, message))
        self.code = code
        self.message = message
        self.event = event
        self.field = field
        self.status = status
        self.retry_after = retry_after
        self.order: Any = None
        self.body: Any = None

    @classmethod
    def from_wire(cls, error: Any, event: Optional[str] = None, status: Optional[int] = None,
                  retry_after: Optional[float] = None) -> 'QuantEnergxError':
        """The error of a gateway answer ``{code, message, field?, retryAfterMs?}``."""
        error = error if isinstance(error, dict) else {}
        wait = error.get('retryAfterMs')
        if isinstance(wait, (int, float)) and not isinstance(wait, bool):
            retry_after = wait / 1000.0
        return cls(str(error.get('code', 'INTERNAL')), str(error.get('message', 'error')), event, error.get('field'), status,
                   retry_after)


class OrderedStreams(Generic[T]):
    """Exactly-once, in-order delivery per private stream. Not thread-safe: the client locks."""

    def __init__(self) -> None:
        self._last: Dict[str, int] = {}
        self._held: Dict[str, Dict[int, T]] = {}

    def receive(self, stream: str, seq: int, item: T) -> Tuple[List[T], bool]:
        """Returns (items now deliverable in order, duplicate?)."""
        last = self._last.get(stream)
        held = self._held.setdefault(stream, {})
        if last is None:
            self._last[stream] = seq
            return [item] + self._drain(stream), False
        if seq <= last or seq in held:
            return [], True
        if seq == last + 1:
            self._last[stream] = seq
            return [item] + self._drain(stream), False
        held[seq] = item
        return [], False

    def _drain(self, stream: str) -> List[T]:
        out = []
        held = self._held.get(stream, {})
        while self._last[stream] + 1 in held:
            self._last[stream] += 1
            out.append(held.pop(self._last[stream]))
        return out

    def gap(self, stream: str) -> Optional[Tuple[int, int]]:
        """(last delivered seq, first held seq) while events are held behind a hole, else None."""
        held = self._held.get(stream)
        if not held:
            return None
        return self._last[stream], min(held)

    def skip_gap(self, stream: str) -> Optional[Tuple[List[T], Tuple[int, int]]]:
        """Gives up on the first hole: returns (items now deliverable, (first, last) skipped)."""
        gap = self.gap(stream)
        if gap is None:
            return None
        last, nxt = gap
        self._last[stream] = nxt - 1
        return self._drain(stream), (last + 1, nxt - 1)

    def set_floor(self, stream: str, seq: int) -> None:
        """Where a stream stands before its first event (events at or below it are old)."""
        if stream not in self._last:
            self._last[stream] = seq

    def positions(self) -> Dict[str, int]:
        """The last seq delivered per stream."""
        return dict(self._last)

    def forget(self, stream: str) -> None:
        """Stops tracking a stream."""
        self._last.pop(stream, None)
        self._held.pop(stream, None)


def stream_of(event: str, envelope: Mapping[str, Any]) -> str:
    """The stream of a private data event (``orders-user-1``, ``system``)."""
    if event == 'system-alert':
        return SYSTEM_STREAM
    owner = envelope.get('userId') or (envelope.get('payload') or {}).get('userId', '')
    return '{}-{}'.format(PRIVATE_STREAM_OF[event], owner)


def token_expiry(token: str) -> Optional[float]:
    """``exp`` of a JWT in epoch seconds, or None."""
    try:
        part = token.split('.')[1]
        claims = json.loads(base64.urlsafe_b64decode(part + '=' * (-len(part) % 4)))
        exp = claims.get('exp')
        return float(exp) if isinstance(exp, (int, float)) else None
    except (IndexError, ValueError, AttributeError):
        return None


def is_expiring(token: str, refresh_lead: float) -> bool:
    """Whether a token expires within the next few seconds (and a fresh one is better)."""
    exp = token_expiry(token)
    return exp is not None and exp - time.time() <= min(refresh_lead, 5.0)


def refresh_delay(expires_at: Any, refresh_lead: float) -> Optional[float]:
    """Seconds until a token that expires at ``expires_at`` (ISO-8601) should be refreshed."""
    try:
        expiry = datetime.fromisoformat(str(expires_at).replace('Z', '+00:00')).timestamp()
    except (AttributeError, ValueError):
        return None
    remaining = expiry - time.time()
    return max(0.0, remaining - min(refresh_lead, remaining * 0.2))


def ack_body(response: Any, event: str) -> Dict[str, Any]:
    """The confirmation of an ack (``ok`` removed), or QuantEnergxError with the gateway's code."""
    if not isinstance(response, dict) or not response.get('ok'):
        raise QuantEnergxError.from_wire(response.get('error') if isinstance(response, dict) else None, event)
    return {k: v for k, v in response.items() if k != 'ok'}


def connect_error(data: Any) -> QuantEnergxError:
    """The QuantEnergxError of a refused Socket.IO connection."""
    if isinstance(data, dict):
        inner = data.get('data')
        code = inner.get('code', 'CONNECT_ERROR') if isinstance(inner, dict) else 'CONNECT_ERROR'
        return QuantEnergxError(str(code), str(data.get('message', data)))
    return QuantEnergxError('CONNECT_ERROR', str(data))


def request_error(data: Any) -> QuantEnergxError:
    """The QuantEnergxError of a ``request-error`` event."""
    data = data if isinstance(data, dict) else {}
    return QuantEnergxError.from_wire(data, data.get('event'))


def rest_origin(url: str) -> str:
    """``http://host:port`` of a gateway URL."""
    from urllib.parse import urlparse
    parsed = urlparse(url)
    return '{}://{}'.format(parsed.scheme or 'http', parsed.netloc)


def token_unavailable(exc: BaseException) -> QuantEnergxError:
    """``get_token`` failed: TOKEN_UNAVAILABLE, with the cause."""
    err = QuantEnergxError('TOKEN_UNAVAILABLE', 'get_token failed: {}: {}'.format(type(exc).__name__, exc))
    err.__cause__ = exc
    return err


def check_token(token: Any) -> str:
    """A token from ``get_token``: a non-empty string, else TOKEN_UNAVAILABLE."""
    if not isinstance(token, str) or not token:
        raise QuantEnergxError('TOKEN_UNAVAILABLE', 'get_token returned {!r}, not a token'.format(token))
    return token
