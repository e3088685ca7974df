"""What the threaded and the asyncio clients share: coded errors, in-order delivery per stream,
stream names, token expiry. No I/O here."""

import base64
import json
import time
from datetime import datetime

SYSTEM_STREAM = 'system'
PRIVATE_STREAM_OF = {'trade-update': 'trading', 'order-update': 'orders', 'compliance-alert': 'compliance'}
DATA_EVENTS = ('market-update', 'trade-update', 'order-update', 'system-alert', 'compliance-alert')
FATAL_AUTH_CODES = frozenset({'INVALID_AUTH_DATA', 'INVALID_TOKEN', 'USER_MISMATCH', 'USER_SWITCH_REFUSED'})
RETRY_CODES = frozenset({'NOT_CONNECTED', 'TOKEN_EXPIRED', 'NOT_AUTHENTICATED'})
RESUME_CHUNK = 16      # the gateway accepts at most 16 streams per resume
LOG_PAGE = 1000        # REST event log page size
SERVER_REPLAY_LIMIT = 1000  # a resume replays at most this many events per stream


class QuantEnergxError(Exception):
    """An error answered by the gateway (``code`` from its catalogue: ``UNKNOWN_COMMODITY``,
    ``FORBIDDEN``, ``INVALID_ORDER``, ...) or decided by the client (``REQUEST_TIMEOUT``,
    ``NOT_CONNECTED``, ``CLIENT_CLOSED``, ``TOKEN_UNAVAILABLE``, ``HTTP_ERROR``).

    ``event`` is the request that failed, ``field`` the payload field at fault (when the gateway
    named one), ``status`` the HTTP status of a REST error.
    """

    def __init__(self, code, message, event=None, field=None, status=None):
        super().__init__('{}: {}'.format(code, message))
        self.code = code
        self.message = message
        self.event = event
        self.field = field
        self.status = status

    @classmethod
    def from_wire(cls, error, event=None, status=None):
        error = error if isinstance(error, dict) else {}
        return cls(error.get('code', 'INTERNAL'), error.get('message', 'error'), event, error.get('field'), status)


class OrderedStreams:
    """Exactly-once, in-order delivery per private stream. Not thread-safe: the client locks."""

    def __init__(self):
        self._last = {}
        self._held = {}

    def receive(self, stream, seq, item):
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

    def _drain(self, stream):
        out = []
        held = self._held.get(stream, {})
        while self._last[stream] + 1 in held:
            self._last[stream] += 1
            out.append(held.pop(self._last[stream]))
        return out

    def gap(self, stream):
        """(last delivered seq, first held seq) while events are held behind a hole, else None."""
        held = self._held.get(stream)
        if not held:
            return None
        return self._last[stream], min(held)

    def skip_gap(self, stream):
        """Gives up on the first hole: returns (items now deliverable, (first, last) skipped)."""
        gap = self.gap(stream)
        if gap is None:
            return None
        last, nxt = gap
        self._last[stream] = nxt - 1
        return self._drain(stream), (last + 1, nxt - 1)

    def positions(self):
        return dict(self._last)

    def forget(self, stream):
        self._last.pop(stream, None)
        self._held.pop(stream, None)


def stream_of(event, envelope):
    """The stream of a private data event (``orders-user-1``, ``system``)."""
    if event == 'system-alert':
        return SYSTEM_STREAM
    owner = envelope.get('userId') or (envelope.get('payload') or {}).get('userId', '')
    return '{}-{}'.format(PRIVATE_STREAM_OF[event], owner)


def token_expiry(token):
    """``exp`` of a JWT in epoch seconds, or None."""
    try:
        part = token.split('.')[1]
        claims = json.loads(base64.urlsafe_b64decode(part + '=' * (-len(part) % 4)))
        exp = claims.get('exp')
        return float(exp) if isinstance(exp, (int, float)) else None
    except (IndexError, ValueError, AttributeError):
        return None


def is_expiring(token, refresh_lead):
    exp = token_expiry(token)
    return exp is not None and exp - time.time() <= min(refresh_lead, 5.0)


def refresh_delay(expires_at, refresh_lead):
    """Seconds until a token that expires at ``expires_at`` (ISO-8601) should be refreshed."""
    try:
        expiry = datetime.fromisoformat(expires_at.replace('Z', '+00:00')).timestamp()
    except (AttributeError, ValueError):
        return None
    remaining = expiry - time.time()
    return max(0.0, remaining - min(refresh_lead, remaining * 0.2))


def ack_body(response, event):
    """The confirmation of an ack (``ok`` removed), or QuantEnergxError with the gateway's code."""
    if not isinstance(response, dict) or not response.get('ok'):
        raise QuantEnergxError.from_wire(response.get('error') if isinstance(response, dict) else None, event)
    return {k: v for k, v in response.items() if k != 'ok'}


def connect_error(data):
    """The QuantEnergxError of a refused Socket.IO connection."""
    if isinstance(data, dict):
        inner = data.get('data') if isinstance(data.get('data'), dict) else {}
        return QuantEnergxError(inner.get('code', 'CONNECT_ERROR'), str(data.get('message', data)))
    return QuantEnergxError('CONNECT_ERROR', str(data))


def request_error(data):
    data = data if isinstance(data, dict) else {}
    return QuantEnergxError(data.get('code', 'INTERNAL'), data.get('message', ''), data.get('event'), data.get('field'))


def rest_origin(url):
    from urllib.parse import urlparse
    parsed = urlparse(url)
    return '{}://{}'.format(parsed.scheme or 'http', parsed.netloc)
