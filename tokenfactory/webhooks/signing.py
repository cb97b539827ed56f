"""Standard Webhooks signatures (https://www.standardwebhooks.com), stdlib only.

The signed content is ``"{webhook-id}.{webhook-timestamp}.{body}"``; the signature is the
base64 of its HMAC-SHA256 under the endpoint's secret (``whsec_`` + base64 of the key bytes),
sent as ``webhook-signature: v1,<signature>``. The gateway signs; receivers (and the SDK's
``tf.webhooks.verify``) check it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 5 * 60


class WebhookVerificationError(ValueError):
    """The payload does not carry a valid, fresh signature for this secret."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: str | bytes) -> str:
    text = body.decode() if isinstance(body, bytes) else body
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.{text}".encode(), hashlib.sha256)
    return "v1," + base64.b64encode(digest.digest()).decode()


def signed_headers(secret: str, msg_id: str, body: str, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(
    payload: str | bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance_s: int = TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Raise :class:`WebhookVerificationError` unless ``payload`` was signed with ``secret``
    within ``tolerance_s`` seconds (header names are matched case-insensitively)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lower["webhook-id"]
        timestamp = int(lower["webhook-timestamp"])
        signatures = lower["webhook-signature"].split()
    except (KeyError, ValueError) as exc:
        raise WebhookVerificationError("missing or malformed webhook-* headers") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise WebhookVerificationError("the webhook-timestamp is too old or in the future")
    expected = sign(secret, msg_id, timestamp, payload).split(",", 1)[1]
    for signature in signatures:
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise WebhookVerificationError("no webhook-signature matches this secret")
