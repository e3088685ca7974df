"""The threaded client (QuantEnergxWebSocket) against a live gateway."""

import socket
import threading
import time

import pytest

from conftest import mint_token, order, publish, publish_orders, trade, until
from quantenergx import QuantEnergxError, QuantEnergxWebSocket


class Recorder:
    EVENTS = ('market-update', 'trade-update', 'order-update', 'request-error', 'error', 'auth-success', 'auth-error',
              'disconnect')

    def __init__(self, ws):
        self.lock = threading.Lock()
        self.events = {e: [] for e in self.EVENTS}
        for event in self.EVENTS:
            ws.on(event, lambda data=None, event=event: self._add(event, data))

    def _add(self, event, data):
        with self.lock:
            self.events[event].append(data)

    def __getitem__(self, event):
        with self.lock:
            return list(self.events[event])


@pytest.fixture
def client(url, user):
    clients = []

    def make(**kwargs):
        ttl = kwargs.pop('ttl', 3600)
        kwargs.setdefault('get_token', lambda: mint_token(user, ttl))
        ws = QuantEnergxWebSocket(url, user, reconnection_delay=0.5, reconnection_delay_max=1, request_timeout=5, **kwargs)
        # python-socketio 5.7 adds its jitter in seconds (here up to +-0.5 s): none, so that a dropped
        # client stays away 0.5 s and what is published meanwhile is really missed
        ws.sio.randomization_factor = 0
        clients.append(ws)
        return ws, Recorder(ws)
    yield make
    for ws in clients:
        ws.disconnect()


def drop_transport(ws):
    """The network fails under the client: the TCP connection is shut, python-socketio reconnects."""
    ws.sio.eio.ws.sock.shutdown(socket.SHUT_RDWR)


def test_flow_and_reconnect_without_loss(client, user):
    ws, seen = client()
    ws.connect()
    assert ws.authenticated
    until(lambda: len(seen['auth-success']) == 1, what='auth-success')
    assert seen['auth-success'][0]['userId'] == user

    confirmation = ws.subscribe_to_market_data(['crude_oil'])
    assert confirmation['message'] == 'Subscribed to market data for: crude_oil'
    joined, orders = ws.subscribe_to_trading_updates()
    assert joined['room'] == 'trading-' + user
    assert orders['room'] == 'orders-' + user

    publish('market-update', {'commodity': 'crude_oil', 'price': 77.5, 'change': 0.5, 'changePercent': 0.65, 'volume': 1000})
    publish('trade-update', trade(user, 't1'), user)
    publish('order-update', order(user, 'o1'), user)
    # earlier tests left resting crude_oil orders, so the engine may publish its own crude_oil update
    # right after ours: the published update must arrive, and the market state is the latest received
    until(lambda: any(e['payload'].get('price') == 77.5 for e in list(seen['market-update'])), what='market-update')
    until(lambda: ws.market.get('crude_oil') == seen['market-update'][-1]['payload'], what='market state is the latest update')
    until(lambda: len(seen['trade-update']) == 1 and len(seen['order-update']) == 1, what='trade and order updates')
    assert seen['trade-update'][0]['type'] == 'TRADE_UPDATE'
    assert seen['order-update'][0]['payload']['id'] == 'o1'

    # the transport dies; orders published meanwhile arrive after the reconnect, once each, in order
    sessions = ws.stats['sessions']
    drop_transport(ws)
    until(lambda: len(seen['disconnect']) == 1, what='disconnect')
    publish_orders(user, ['o2', 'o3', 'o4'])
    publish('trade-update', trade(user, 't2'), user)
    until(lambda: ws.stats['sessions'] > sessions and ws.authenticated, timeout=10, what='reconnect')
    until(lambda: len(seen['order-update']) == 4 and len(seen['trade-update']) == 2, timeout=10, what='missed events')
    publish('order-update', order(user, 'o5'), user)
    until(lambda: len(seen['order-update']) == 5, what='live order after reconnect')
    time.sleep(0.3)
    assert [e['seq'] for e in seen['order-update']] == [1, 2, 3, 4, 5]
    assert [e['payload']['id'] for e in seen['order-update']] == ['o1', 'o2', 'o3', 'o4', 'o5']
    assert [e['seq'] for e in seen['trade-update']] == [1, 2]
    assert ws.last_seqs()['orders-' + user] == 5
    assert ws.stats['resumes'] >= 1
    assert seen['error'] == []


def test_coded_errors(client, user):
    ws, seen = client()
    ws.connect()
    with pytest.raises(QuantEnergxError) as caught:
        ws.subscribe_to_market_data(['unobtainium'])
    assert caught.value.code == 'UNKNOWN_COMMODITY'
    assert caught.value.event == 'subscribe-market'
    until(lambda: len(seen['request-error']) == 1, what='request-error')
    assert seen['request-error'][0].code == 'UNKNOWN_COMMODITY'
    with pytest.raises(QuantEnergxError) as caught:
        ws.subscribe_to_compliance_alerts('someone-else')
    assert caught.value.code == 'FORBIDDEN'
    ws.disconnect()
    with pytest.raises(QuantEnergxError) as caught:
        ws.ping()
    assert caught.value.code == 'CLIENT_CLOSED'


def test_refused_token(url, user):
    ws = QuantEnergxWebSocket(url, user, token='not-a-jwt', request_timeout=5)
    errors = []
    ws.on('auth-error', errors.append)
    try:
        with pytest.raises(QuantEnergxError) as caught:
            ws.connect(timeout=3)
        assert caught.value.code == 'INVALID_TOKEN'
        until(lambda: len(errors) >= 1, what='auth-error')
        assert errors[0].code == 'INVALID_TOKEN'
    finally:
        ws.disconnect()


def test_duplicates_are_dropped(client, user):
    ws, seen = client()
    ws.connect()
    ws.subscribe_to_trading_updates()
    publish_orders(user, ['o1', 'o2'])
    until(lambda: len(seen['order-update']) == 2, what='orders')
    ws.sio.call('resume', {'orders-' + user: 0}, timeout=5)  # the gateway replays both again
    until(lambda: ws.stats['duplicates_dropped'] >= 2, what='duplicates dropped')
    assert len(seen['order-update']) == 2


def test_more_missed_than_one_replay_is_read_from_the_event_log(client, user):
    ws, seen = client()
    ws.connect()
    ws.subscribe_to_trading_updates()
    publish('order-update', order(user, 'first'), user)
    until(lambda: len(seen['order-update']) == 1, what='first order')
    # away until everything is published (the reconnect is the client's own connect path)
    ws.sio.reconnection = False
    drop_transport(ws)
    until(lambda: len(seen['disconnect']) == 1, what='disconnect')
    missed = 1200  # more than the 1,000 a resume replays
    publish_orders(user, ['m{}'.format(i) for i in range(missed)])
    ws.sio.reconnection = True
    ws.connect()
    until(lambda: len(seen['order-update']) == missed + 1, timeout=30, what='{} missed orders'.format(missed))
    time.sleep(0.2)
    assert [e['seq'] for e in seen['order-update']] == list(range(1, missed + 2))
    assert ws.stats['log_reads'] >= 1
    assert ws.stats['events_lost'] == 0


def test_token_refresh_before_expiry_and_after_token_expired(client, user):
    # proactive: 5-second tokens, refreshed ahead of expiry (at 4 s) on the same connection
    ws, seen = client(ttl=5)
    ws.connect()
    ws.subscribe_to_trading_updates()
    sid = ws.sio.sid
    until(lambda: ws.stats['token_refreshes'] >= 1, timeout=8, what='a refresh')
    time.sleep(1.5)  # past the first token's expiry
    assert seen['auth-error'] == []
    assert ws.sio.sid == sid, 'refreshed without reconnecting'
    publish('order-update', order(user, 'after-refresh'), user)
    until(lambda: len(seen['order-update']) == 1, what='order after refreshes')

    # reactive: no refresh ahead of time; the gateway says "Token expired", the client refreshes and
    # what was published meanwhile still arrives, in order
    lazy, lazy_seen = client(ttl=2, refresh_before_expiry=False)
    lazy.connect()
    lazy.subscribe_to_trading_updates()
    until(lambda: any(e.code == 'TOKEN_EXPIRED' for e in lazy_seen['auth-error']), timeout=6, what='TOKEN_EXPIRED')
    publish_orders(user, ['p1', 'p2'])
    until(lambda: len(lazy_seen['order-update']) == 2, timeout=8, what='orders after expiry')
    assert [e['seq'] for e in lazy_seen['order-update']] == [2, 3]
    until(lambda: lazy.authenticated, what='authenticated again')
    assert lazy.stats['token_refreshes'] >= 1
    assert lazy.ping()['timestamp'] > 0
