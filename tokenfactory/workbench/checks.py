"""What is checked on the gateway before anything runs: that every model exists, and that every
JSON Schema can be enforced by its grammar engine.

A schema is checked by asking the gateway itself: one request of one token with that
``response_format``. The gateway refuses a schema its grammar cannot enforce with a 400 naming
the keyword, which becomes a :class:`SchemaError` here, so the answer is the engine's own and
this works against any gateway.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import SchemaError, UnknownCandidateError

if TYPE_CHECKING:
    from tokenfactory.sdk import TokenFactory


def served_models(client: TokenFactory) -> set[str]:
    """Ids of the models and adapters (and their checkpoints) this key can use."""
    return {m.id for m in client.models.list().data}


def check_models(
    client: TokenFactory, models: Iterable[str], what: str = "candidate", wait_s: float = 30.0
) -> None:
    wanted = list(dict.fromkeys(models))
    available = served_models(client)
    unknown = [m for m in wanted if m not in available]
    # a checkpoint is served a moment after its job succeeded: give it that moment
    deadline = time.monotonic() + wait_s
    while unknown and all("@epoch-" in m for m in unknown) and time.monotonic() < deadline:
        time.sleep(0.5)
        available = served_models(client)
        unknown = [m for m in wanted if m not in available]
    if not unknown:
        return
    # a model the catalog lists under another spelling still resolves: ask for each one
    really_unknown = []
    for model in unknown:
        try:
            client.models.retrieve(model)
        except Exception:
            really_unknown.append(model)
    if really_unknown:
        raise UnknownCandidateError(
            f"{what} model{'s' if len(really_unknown) > 1 else ''} "
            f"{', '.join(repr(m) for m in really_unknown)} not served by the gateway "
            f"(available: {sorted(available)})"
        )


def check_schemas(client: TokenFactory, bodies: Iterable[dict[str, Any]]) -> None:
    """One 1-token request per distinct (model, response_format) among ``bodies``."""
    from tokenfactory.sdk import BadRequestError

    seen: set[str] = set()
    for body in bodies:
        fmt = body.get("response_format")
        if not fmt or fmt.get("type") != "json_schema":
            continue
        key = json.dumps([body["model"], fmt], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        try:
            client.chat.completions.create(
                model=body["model"],
                messages=[{"role": "user", "content": "{}"}],
                response_format=fmt,
                max_tokens=1,
                max_retries=0,
            )
        except BadRequestError as exc:
            raise SchemaError(
                f"the gateway cannot enforce this JSON Schema for {body['model']!r}: {exc.message}"
            ) from None


def supports_logprobs(client: TokenFactory, model: str) -> bool:
    """Whether the gateway gives logprobs for ``model`` (an engine may not: a 400)."""
    from tokenfactory.sdk import BadRequestError

    try:
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=1,
            logprobs=True,
            top_logprobs=1,
            max_retries=0,
        )
    except BadRequestError as exc:
        if exc.code == "unsupported_parameter" or "logprobs" in exc.message:
            return False
        raise
    return True
