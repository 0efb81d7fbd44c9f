"""A WSGI app for TestGunicornCeiling: every request sleeps MS milliseconds
(the environment variable, default 50) and answers a small JSON body.
gunicorn's sync workers serve one request each at a time, so with -w N the
server's concurrency ceiling is N."""
import os
import time

DELAY = float(os.environ.get("MS", "50")) / 1000.0
BODY = b'{"ok":true}\n'


def app(environ, start_response):
    time.sleep(DELAY)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
