"""Connection life of both clients (issue 19 items 12, 19, 20): a token that cannot be had is
TOKEN_UNAVAILABLE at once, with its cause, in every client; refused credentials raise at once; a
gateway that is down is a QuantEnergxError after the retries asked for; a failed async connect
leaves no task and no session behind; reconnects and resumes are logged at INFO; RATE_LIMITED says
when to come back."""

import asyncio
import gc
import logging
import socket
import time

import pytest

from conftest import mint_token, publish, order, run, until
from quantenergx import AsyncQuantEnergxRest, AsyncQuantEnergxWebSocket, QuantEnergxError, QuantEnergxRest, QuantEnergxWebSocket


class IdentityServiceDown(Exception):
    pass


def broken_token():
    raise IdentityServiceDown('identity service down')


def dead_url():
    probe = socket.socket()
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()
    return 'http://127.0.0.1:{}'.format(port)


def assert_token_unavailable(err, started):
    assert err.code == 'TOKEN_UNAVAILABLE'
    assert isinstance(err.__cause__, IdentityServiceDown) and 'identity service down' in err.message
    assert time.monotonic() - started < 1.0, 'raised at once'


def test_token_failures_raise_at_once_with_their_cause(url, user):
    ws = QuantEnergxWebSocket(url, user, get_token=broken_token)
    started = time.monotonic()
    with pytest.raises(QuantEnergxError) as caught:
        ws.connect(timeout=5)
    assert_token_unavailable(caught.value, started)
    assert not ws.connected
    ws.disconnect()

    started = time.monotonic()
    with pytest.raises(QuantEnergxError) as caught:
        QuantEnergxRest(url, get_token=broken_token).positions()
    assert_token_unavailable(caught.value, started)

    async def body():
        aws = AsyncQuantEnergxWebSocket(url, user, get_token=broken_token)
        begun = time.monotonic()
        with pytest.raises(QuantEnergxError) as raised:
            await aws.connect(timeout=5)
        assert_token_unavailable(raised.value, begun)
        async with AsyncQuantEnergxRest(url, get_token=broken_token) as api:
            begun = time.monotonic()
            with pytest.raises(QuantEnergxError) as raised:
                await api.positions()
            assert_token_unavailable(raised.value, begun)
    run(body())


def test_refused_credentials_raise_at_once_after_one_fresh_token(url, user):
    asked = []
    ws = QuantEnergxWebSocket(url, user, get_token=lambda: asked.append(1) or 'not-a-jwt')
    started = time.monotonic()
    with pytest.raises(QuantEnergxError) as caught:
        ws.connect(timeout=10)
    assert caught.value.code == 'INVALID_TOKEN' and 'fresh token' in caught.value.message
    assert time.monotonic() - started < 3.0, 'not after the 10 s timeout'
    assert len(asked) == 2
    with pytest.raises(QuantEnergxError) as caught:
        ws.ping()
    assert caught.value.code == 'INVALID_TOKEN'
    ws.disconnect()
    # a token held that the gateway refuses (a restart with a new key): one fresh one and it works
    tokens = iter([mint_token(user)] * 5)
    fresh = QuantEnergxWebSocket(url, user, token='stale.token.value', get_token=lambda: next(tokens))
    try:
        fresh.connect(timeout=10)
        assert fresh.authenticated and fresh.ping()['timestamp'] > 0
    finally:
        fresh.disconnect()


def test_a_gateway_that_is_down_is_a_coded_error_after_the_retries_asked_for(user):
    url = dead_url()
    ws = QuantEnergxWebSocket(url, user, token=mint_token(user), reconnection_delay=0.1)
    started = time.monotonic()
    with pytest.raises(QuantEnergxError) as caught:
        ws.connect(timeout=2, retries=2)
    assert caught.value.code == 'CONNECT_FAILED' and '3 attempts' in caught.value.message
    assert caught.value.__cause__ is not None
    assert time.monotonic() - started >= 0.3, 'waited 0.1 + 0.2 s between the attempts'
    ws.disconnect()


def test_a_failed_async_connect_leaves_no_task_and_no_session(user):
    problems = []

    async def body():
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: problems.append(context.get('message')))
        before = asyncio.all_tasks()
        ws = AsyncQuantEnergxWebSocket(dead_url(), user, token=mint_token(user))
        with pytest.raises(QuantEnergxError) as caught:
            await ws.connect(timeout=2)
        assert caught.value.code == 'CONNECT_FAILED'
        await asyncio.sleep(0.05)
        assert asyncio.all_tasks() - before == set()
        del ws, caught
        gc.collect()
        await asyncio.sleep(0)
    run(body())
    gc.collect()
    assert problems == [], problems


def test_reconnects_and_resumes_are_logged_at_info(url, user, caplog):
    caplog.set_level(logging.INFO, logger='quantenergx')
    ws = QuantEnergxWebSocket(url, user, get_token=lambda: mint_token(user), reconnection_delay=0.2,
                              reconnection_delay_max=0.5)
    ws.sio.randomization_factor = 0
    try:
        ws.connect()
        ws.subscribe_to_trading_updates()
        publish('order-update', order(user, 'before'), user)
        until(lambda: ws.last_seqs().get('orders-' + user) == 1, what='first order')
        sessions = ws.stats['sessions']
        ws.sio.eio.ws.sock.shutdown(socket.SHUT_RDWR)
        until(lambda: ws.stats['sessions'] > sessions and ws.authenticated, timeout=10, what='reconnect')
        until(lambda: any('resumed' in r.getMessage() for r in caplog.records), what='the resume logged')
    finally:
        ws.disconnect()
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(m.startswith('disconnected from ') for m in messages), messages
    assert any(m.startswith('reconnected to ') for m in messages), messages
    assert any(m.startswith('resumed ') and 'orders-' + user in m for m in messages), messages


def test_rate_limited_says_when_to_come_back(url, user):
    async def body():
        ws = AsyncQuantEnergxWebSocket(url, user, get_token=lambda: mint_token(user))
        await ws.connect()
        try:
            answers = await asyncio.gather(*(ws.ping() for _ in range(120)), return_exceptions=True)
        finally:
            await ws.disconnect()
        limited = [a for a in answers if isinstance(a, QuantEnergxError)]
        assert limited, 'some pings were refused'
        for err in limited:
            assert err.code == 'RATE_LIMITED'
            assert err.retry_after is not None and 0 < err.retry_after <= 0.02  # MAX_EVENTS_PER_SECOND 50
    run(body())
