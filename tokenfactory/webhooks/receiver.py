"""A webhook receiver for a notebook: a small HTTP server on a background thread that verifies
each delivery's signature and keeps the events, in order (stdlib only).

    rx = tf.webhooks.Receiver()                 # listens on 127.0.0.1, a free port
    admin.webhooks.create(workspace, url=rx.url)  # ... then rx.secret = endpoint.secret
    rx.wait_for("batch.completed")
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .signing import WebhookVerificationError, verify


class Receiver:
    def __init__(self, secret: str | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.secret = secret
        self.events: list[dict[str, Any]] = []
        self.rejected = 0
        self._seen: set[str] = set()
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/webhook"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status = receiver._accept(body, dict(self.headers.items()))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def _accept(self, body: bytes, headers: dict[str, str]) -> int:
        if self.secret is None:
            return 503  # not ready yet: the gateway retries
        try:
            verify(body, headers, self.secret)
        except WebhookVerificationError:
            with self._changed:
                self.rejected += 1
            return 400
        event = json.loads(body)
        with self._changed:
            if event["id"] not in self._seen:  # at-least-once: a retried event counts once
                self._seen.add(event["id"])
                self.events.append(event)
            self._changed.notify_all()
        return 204

    def wait_for(self, event_type: str, timeout: float = 60.0) -> dict[str, Any]:
        """The first received event of ``event_type``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events:
                    if event["type"] == event_type:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {event_type} event within {timeout} s")
                self._changed.wait(left)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
