"""ASGI middleware around every gateway request, for metering.

- opens the ``RequestScope`` that ties a request's admission to its usage record;
- puts the workspace's ``X-RateLimit-*`` headers on every authenticated response that does
  not carry them yet (admission already set them on inference responses);
- removes an ``api_key`` query parameter from the request line before the server's access
  log writes it, so keys never reach a log;
- when an inference request fails (4xx/5xx) without a usage record, releases what its
  admission took and records the failure (zero tokens) so errors show up in usage/metrics.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import parse_qsl, urlencode

from ..core import UsageRecord
from ..core.endpoints import ENDPOINTS
from ..ratelimit import RateLimiter
from ..usage.meter import Meter, close_scope, open_scope

log = logging.getLogger("tokenfactory.usage")

# inference endpoints and the usage tier a failure on them is recorded under
MODEL_FIELD = re.compile(rb'"model"\s*:\s*"([^"\\]{1,256})"')
BODY_PREFIX = 64 * 1024  # enough of a request body to find its model for a failure record


class MeteringMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        core = scope["app"].state.core
        request_scope, token = open_scope()
        status = 500
        body = bytearray()

        async def receive_and_keep() -> dict:
            message = await receive()
            if message["type"] == "http.request" and len(body) < BODY_PREFIX:
                body.extend(message.get("body", b"")[: BODY_PREFIX - len(body)])
            return message

        async def send_with_headers(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = _add_rate_limit_headers(core, scope, message)
                _redact_api_key(scope)
            await send(message)

        try:
            await self.app(scope, receive_and_keep, send_with_headers)
        finally:
            close_scope(token)
            await _finish(core, scope, request_scope, status, bytes(body))


def _principal(scope):
    state = scope.get("state")
    return state.get("principal") if isinstance(state, dict) else None


def _add_rate_limit_headers(core, scope, message):
    principal = _principal(scope)
    limiter = core.installed.get(RateLimiter)
    if principal is None or limiter is None:
        return message
    headers = list(message.get("headers", []))
    present = {name.lower() for name, _ in headers}
    if b"x-ratelimit-limit" in present:
        return message
    ws = principal.workspace
    for name, value in limiter.headers(ws.id, ws.tier).items():
        headers.append((name.encode("latin-1"), value.encode("latin-1")))
    return {**message, "headers": headers}


def _redact_api_key(scope) -> None:
    query = scope.get("query_string") or b""
    if b"api_key" not in query:
        return
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    kept = [(k, "REDACTED" if k == "api_key" else v) for k, v in pairs]
    scope["query_string"] = urlencode(kept).encode("latin-1")


def _model_of(body: bytes) -> str:
    try:
        model = json.loads(body).get("model")
        return model[:256] if isinstance(model, str) else ""
    except (ValueError, AttributeError):
        found = MODEL_FIELD.search(body)
        return found.group(1).decode("utf-8", "replace") if found else ""


async def _finish(core, scope, request_scope, status: int, body: bytes) -> None:
    meter = core.installed.get(Meter)
    if meter is None:
        return
    try:
        meter.release(request_scope)
        principal = _principal(scope)
        endpoint = ENDPOINTS.get(scope.get("path", ""))
        tier = endpoint.tier if endpoint else None
        if status < 400 or principal is None or tier is None or request_scope.records:
            return
        admission = request_scope.last_admission
        state = scope.get("state") or {}
        await core.record_usage(
            UsageRecord(
                principal=principal,
                endpoint=scope["path"],
                model=admission.model if admission else core.real_model(_model_of(body)),
                tier=admission.tier if admission else tier,
                prompt_tokens=0,
                completion_tokens=0,
                latency_s=None,
                ttft_s=None,
                status=status,
                request_id=state.get("request_id"),
            )
        )
    except Exception:
        log.exception("metering a failed request failed")
