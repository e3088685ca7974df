"""The seed's usage: connect, print market updates for 10 seconds.

    /usr/bin/python3 example.py [url] [user_id] [token]

Without a token, one is asked from the demo server's dev sign-in (``npm start`` without JWT_SECRET).
"""

import sys
import time

import requests

from quantenergx import QuantEnergxWebSocket

url = sys.argv[1] if len(sys.argv) > 1 else 'http://localhost:3001'
user_id = sys.argv[2] if len(sys.argv) > 2 else 'user-123'
token = sys.argv[3] if len(sys.argv) > 3 else None


def dev_token():
    res = requests.post(url + '/api/v1/auth/dev-token', json={'userId': user_id}, timeout=10)
    res.raise_for_status()
    return res.json()['token']


ws = QuantEnergxWebSocket(url, user_id, token=token, get_token=None if token else dev_token)
ws.on('market-update', lambda envelope: print('Market update:', envelope['payload']))
ws.on('trade-update', lambda envelope: print('Trade update:', envelope['payload']))
ws.on('order-update', lambda envelope: print('Order update:', envelope['payload']))
ws.on('system-alert', lambda envelope: print('System alert:', envelope['payload']))
ws.on('disconnect', lambda notice: print('Disconnected', notice or ''))

ws.connect()
print('Authenticated as', user_id)
ws.subscribe_to_market_data(['crude_oil', 'natural_gas'])
ws.subscribe_to_trading_updates()
try:
    time.sleep(10)
finally:
    ws.disconnect()
