"""Fixtures for the tests against a live gateway (apps/server/test/python-client.test.ts starts
one and runs ``/usr/bin/python3 -m pytest`` with this environment):

  QX_URL          a gateway with JWT_SECRET (tokens are signed here with QX_JWT_SECRET)
  QX_JWT_SECRET   its JWT_SECRET
  QX_PUBLISH_KEY  its PUBLISH_API_KEY (events are published through POST /api/v1/publish)
  QX_DEMO_URL     a gateway in demo mode (tokens from POST /api/v1/auth/dev-token), for the README

Without QX_URL the tests that need a gateway are skipped (with CI=true they fail).
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import time
import urllib.request
import uuid

import pytest

URL = os.environ.get('QX_URL')
DEMO_URL = os.environ.get('QX_DEMO_URL')
PUBLISH_KEY = os.environ.get('QX_PUBLISH_KEY', '')
SECRET = os.environ.get('QX_JWT_SECRET', '')


def _need(value, name):
    if not value:
        if os.environ.get('CI') == 'true':
            pytest.fail('{} is required in CI'.format(name))
        pytest.skip('{} not set: no gateway to test against'.format(name))
    return value


@pytest.fixture
def url():
    _need(SECRET, 'QX_JWT_SECRET')
    return _need(URL, 'QX_URL')


@pytest.fixture
def demo_url():
    return _need(DEMO_URL, 'QX_DEMO_URL')


@pytest.fixture
def user():
    return 'py-' + uuid.uuid4().hex[:10]


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def mint_token(user_id, ttl=3600, roles=()):
    """An HS256 JWT for ``user_id``, signed with the gateway's secret."""
    now = int(time.time())
    header = _b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())
    claims = _b64(json.dumps({'sub': user_id, 'roles': list(roles), 'iat': now, 'exp': now + ttl}).encode())
    signature = hmac.new(SECRET.encode(), '{}.{}'.format(header, claims).encode(), hashlib.sha256).digest()
    return '{}.{}.{}'.format(header, claims, _b64(signature))


def _post(url, body, key):
    headers = {'content-type': 'application/json', 'authorization': 'Bearer ' + key}
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method='POST')
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def publish(event, payload, user_id=None):
    body = {'event': event, 'payload': payload}
    if user_id:
        body['userId'] = user_id
    return _post(URL + '/api/v1/publish', body, PUBLISH_KEY)


def publish_orders(user_id, ids):
    """Publishes order updates for ``user_id``, in order, 40 per request (MAX_PAYLOAD_BYTES is 16 KiB)."""
    ids = list(ids)
    for i in range(0, len(ids), 40):
        _post(URL + '/api/v1/publish/batch',
              {'events': [{'event': 'order-update', 'userId': user_id, 'payload': order(user_id, o)} for o in ids[i:i + 40]]},
              PUBLISH_KEY)


def order(user_id, order_id):
    return {'id': order_id, 'userId': user_id, 'status': 'partially_filled', 'filledQuantity': 500,
            'remainingQuantity': 500, 'averagePrice': 75.23}


def trade(user_id, trade_id):
    return {'id': trade_id, 'orderId': 'order-456', 'userId': user_id, 'commodity': 'crude_oil', 'quantity': 1000,
            'price': 75.25, 'side': 'buy', 'status': 'executed', 'executionTime': '2024-07-29T22:00:00.000Z'}


def until(predicate, timeout=15.0, what='condition'):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for ' + what)
        time.sleep(0.02)


async def async_until(predicate, timeout=5.0, what='condition'):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for ' + what)
        await asyncio.sleep(0.02)


def run(coro, timeout=60):
    """Runs an async test body on a fresh event loop, bounded in time (no pytest-asyncio needed)."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def admin(path, body):
    """An operator's call (kill switch, halts): a JWT with role ``admin``."""
    return _post(URL + path, body, mint_token('py-admin-' + uuid.uuid4().hex[:6], roles=['admin']))


def holds(predicate, duration, what='condition'):
    """Polls ``predicate`` for ``duration`` seconds: it must hold every time (a negative wait)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        assert predicate(), what + ' stopped holding'
        time.sleep(0.05)


async def async_holds(predicate, duration, what='condition'):
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        assert predicate(), what + ' stopped holding'
        await asyncio.sleep(0.05)
