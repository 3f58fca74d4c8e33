#!/usr/bin/env python3
"""A webhook consumer written from the documented recipes, as a customer would write it.

  verify_receiver.py SCHEME HEADER SECRET

stripe: HEADER is "t=<unix>,v1=<hex>[,v1=<hex>...]"; the signature is the hex HMAC-SHA256 of
"{t}.{raw body}" keyed with the secret string; reject timestamps older than 5 minutes.
hex:    HEADER is the hex HMAC-SHA256 of the raw body keyed with the secret string.

Answers 200 when the signature verifies and 401 otherwise. Prints its port on the first line.
"""
import hashlib
import hmac
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCHEME, HEADER, SECRET = sys.argv[1], sys.argv[2], sys.argv[3].encode("utf-8")
TOLERANCE_S = 300


def verify_stripe(header: str, body: bytes) -> bool:
    timestamp, signatures = None, []
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE_S:
        return False
    expected = hmac.new(SECRET, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)


def verify_hex(header: str, body: bytes) -> bool:
    expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.strip())


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        header = self.headers.get(HEADER)
        ok = header is not None and (verify_stripe if SCHEME == "stripe" else verify_hex)(header, body)
        self.send_response(200 if ok else 401)
        self.end_headers()
        self.wfile.write(b"verified" if ok else b"bad signature")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
