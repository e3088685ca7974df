"""Integration test of quantenergx_ws against a running gateway (stdlib unittest only).

Environment:
  QX_URL          the gateway, e.g. http://127.0.0.1:3001
  QX_PUBLISH_KEY  the gateway's PUBLISH_API_KEY (events are published through POST /api/v1/publish)
  and one way to mint tokens:
  QX_JWT_SECRET   the gateway's JWT_SECRET (HS256 tokens are signed here), or
  QX_TOKEN_URL    a dev-token endpoint (demo mode: http://host:3001/api/v1/auth/dev-token)

Run: QX_URL=... QX_PUBLISH_KEY=... QX_JWT_SECRET=... /usr/bin/python3 -m unittest test_client -v
"""

import base64
import hashlib
import hmac
import json
import os
import socket
import threading
import time
import unittest
import urllib.request
import uuid

from quantenergx_ws import QuantEnergxError, QuantEnergxWebSocket

URL = os.environ.get('QX_URL', 'http://127.0.0.1:3001')
PUBLISH_KEY = os.environ.get('QX_PUBLISH_KEY', '')


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def mint_token(user_id, ttl=3600):
    secret = os.environ.get('QX_JWT_SECRET')
    if secret:
        now = int(time.time())
        header = _b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())
        claims = _b64(json.dumps({'sub': user_id, 'roles': [], 'iat': now, 'exp': now + ttl}).encode())
        signature = hmac.new(secret.encode(), '{}.{}'.format(header, claims).encode(), hashlib.sha256).digest()
        return '{}.{}.{}'.format(header, claims, _b64(signature))
    body = _post(os.environ['QX_TOKEN_URL'], {'userId': user_id}, None)
    return body['token']


def _post(url, body, key):
    headers = {'content-type': 'application/json'}
    if key:
        headers['authorization'] = 'Bearer ' + key
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method='POST')
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def publish(event, payload, user_id=None):
    body = {'event': event, 'payload': payload}
    if user_id:
        body['userId'] = user_id
    return _post(URL + '/api/v1/publish', body, PUBLISH_KEY)


def order(user_id, order_id):
    return {'id': order_id, 'userId': user_id, 'status': 'partially_filled', 'filledQuantity': 500,
            'remainingQuantity': 500, 'averagePrice': 75.23}


def trade(user_id, trade_id):
    return {'id': trade_id, 'orderId': 'order-456', 'userId': user_id, 'commodity': 'crude_oil', 'quantity': 1000,
            'price': 75.25, 'side': 'buy', 'status': 'executed', 'executionTime': '2024-07-29T22:00:00.000Z'}


def until(predicate, timeout=5.0, what='condition'):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for ' + what)
        time.sleep(0.02)


class Recorder:
    def __init__(self, ws):
        self.lock = threading.Lock()
        self.events = {e: [] for e in ('market-update', 'trade-update', 'order-update', 'request-error', 'error', 'auth-success')}
        for event in self.events:
            ws.on(event, lambda data, event=event: self._add(event, data))

    def _add(self, event, data):
        with self.lock:
            self.events[event].append(data)

    def __getitem__(self, event):
        with self.lock:
            return list(self.events[event])


class QuantEnergxWebSocketTest(unittest.TestCase):
    def setUp(self):
        self.user = 'py-' + uuid.uuid4().hex[:8]
        self.ws = QuantEnergxWebSocket(URL, self.user, get_token=lambda: mint_token(self.user),
                                       reconnection_delay=0.1, reconnection_delay_max=0.5, request_timeout=5)
        self.seen = Recorder(self.ws)

    def tearDown(self):
        self.ws.disconnect()

    def test_flow(self):
        ws, seen, user = self.ws, self.seen, self.user
        ws.connect()
        self.assertTrue(ws.authenticated)
        until(lambda: len(seen['auth-success']) == 1, what='auth-success')
        self.assertEqual(seen['auth-success'][0]['userId'], user)

        confirmation = ws.subscribe_to_market_data(['crude_oil'])
        self.assertEqual(confirmation['message'], 'Subscribed to market data for: crude_oil')
        joined, orders = ws.subscribe_to_trading_updates()
        self.assertEqual(joined['room'], 'trading-' + user)
        self.assertEqual(orders['room'], 'orders-' + user)

        # market, trade and order updates published by a back-end service
        publish('market-update', {'commodity': 'crude_oil', 'price': 77.5, 'change': 0.5, 'changePercent': 0.65, 'volume': 1000})
        publish('trade-update', trade(user, 't1'), user)
        publish('order-update', order(user, 'o1'), user)
        until(lambda: ws.market.get('crude_oil', {}).get('price') == 77.5, what='market-update')
        until(lambda: len(seen['trade-update']) == 1 and len(seen['order-update']) == 1, what='trade and order updates')
        self.assertEqual(seen['trade-update'][0]['type'], 'TRADE_UPDATE')
        self.assertEqual(seen['order-update'][0]['payload']['id'], 'o1')

        # a request error carries the gateway's code
        with self.assertRaises(QuantEnergxError) as caught:
            ws.subscribe_to_market_data(['unobtainium'])
        self.assertEqual(caught.exception.code, 'UNKNOWN_COMMODITY')
        until(lambda: len(seen['request-error']) == 1, what='request-error')
        self.assertEqual(seen['request-error'][0].code, 'UNKNOWN_COMMODITY')

        # the transport dies; orders published meanwhile arrive after the reconnect, once each, in order
        sessions = ws.stats['sessions']
        ws.sio.eio.ws.sock.shutdown(socket.SHUT_RDWR)
        until(lambda: not ws.connected, what='disconnect')
        for i in (2, 3, 4):
            publish('order-update', order(user, 'o{}'.format(i)), user)
        publish('trade-update', trade(user, 't2'), user)
        until(lambda: ws.stats['sessions'] > sessions and ws.authenticated, timeout=10, what='reconnect')
        until(lambda: len(seen['order-update']) == 4 and len(seen['trade-update']) == 2, timeout=10, what='missed events')
        publish('order-update', order(user, 'o5'), user)
        until(lambda: len(seen['order-update']) == 5, what='live order after reconnect')
        time.sleep(0.3)
        self.assertEqual([e['seq'] for e in seen['order-update']], [1, 2, 3, 4, 5])
        self.assertEqual([e['payload']['id'] for e in seen['order-update']], ['o1', 'o2', 'o3', 'o4', 'o5'])
        self.assertEqual([e['seq'] for e in seen['trade-update']], [1, 2])
        self.assertEqual(ws.last_seqs()['orders-' + user], 5)
        self.assertEqual(seen['error'], [])

    def test_refused_token(self):
        ws = QuantEnergxWebSocket(URL, self.user, token='not-a-jwt', request_timeout=5)
        errors = []
        ws.on('auth-error', errors.append)
        try:
            with self.assertRaises(QuantEnergxError):
                ws.connect(timeout=3)
            until(lambda: len(errors) >= 1, what='auth-error')
            self.assertEqual(errors[0].code, 'INVALID_TOKEN')
        finally:
            ws.disconnect()

    def test_duplicates_are_dropped(self):
        ws, seen, user = self.ws, self.seen, self.user
        ws.connect()
        ws.subscribe_to_trading_updates()
        for i in (1, 2):
            publish('order-update', order(user, 'o{}'.format(i)), user)
        until(lambda: len(seen['order-update']) == 2, what='orders')
        ws.sio.call('resume', {'orders-' + user: 0}, timeout=5)  # the gateway replays both again
        until(lambda: ws.stats['duplicates_dropped'] >= 2, what='duplicates dropped')
        self.assertEqual(len(seen['order-update']), 2)


if __name__ == '__main__':
    unittest.main()
