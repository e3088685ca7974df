"""Followers for the gateway-kill cluster test: one QuantEnergxWebSocket per user (the package's
threaded client: reconnects, resumes by seq, fills gaps from the event log), each following its
user's orders. Reads {"url", "users": {userId: token}} from stdin's first line, prints "ready" once
all are subscribed, then on each "report" line prints {userId: [seq, ...]} as JSON; "quit" stops."""
import json
import sys
import threading

from quantenergx import QuantEnergxWebSocket


def main():
    config = json.loads(sys.stdin.readline())
    seen = {}
    lock = threading.Lock()
    clients = []
    for user_id, token in config['users'].items():
        seen[user_id] = []

        def on_order(envelope, user_id=user_id):
            with lock:
                seen[user_id].append(envelope['seq'])

        ws = QuantEnergxWebSocket(config['url'], user_id, token=token, refresh_before_expiry=False)
        ws.on('order-update', on_order)
        ws.connect()
        ws.subscribe_to_trading_updates()
        clients.append(ws)
    print('ready', flush=True)
    for line in sys.stdin:
        if line.strip() == 'report':
            with lock:
                print(json.dumps(seen), flush=True)
        elif line.strip() == 'quit':
            break
    for ws in clients:
        ws.disconnect()


if __name__ == '__main__':
    main()
