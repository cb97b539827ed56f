"""The SDK and curl calls equivalent to a Playground's current settings.

``body`` is the request the Playground sends (``Playground.request_body()``): a chat body
(``messages``) or a text-completion body (``prompt``), with every setting in use.
"""

from __future__ import annotations

import json
import pprint

KEY_ENV = "TOKENFACTORY_API_KEY"


def request_body(model: str, messages: list[dict], params: dict) -> dict:
    return {"model": model, "messages": messages, **params, "stream": True}


def _argument(name: str, value: object) -> str:
    text = pprint.pformat(value, indent=1, width=88, sort_dicts=False)
    return f"    {name}=" + text.replace("\n", "\n    ") + ","


def python_code(base_url: str, body: dict) -> str:
    completion = "prompt" in body
    args = [_argument(k, v) for k, v in body.items() if k != "stream"]
    args.append("    stream=True,")
    create = "client.completions.create(" if completion else "client.chat.completions.create("
    text = "chunk.choices[0].text" if completion else "chunk.choices[0].delta.content"
    return "\n".join(
        [
            "import os",
            "",
            "import tokenfactory as tf",
            "",
            f'client = tf.TokenFactory(base_url={base_url!r}, api_key=os.environ["{KEY_ENV}"])',
            f"stream = {create}",
            *args,
            ")",
            "for chunk in stream:",
            "    if chunk.choices:",
            f'        print({text} or "", end="")',
        ]
    )


def curl_code(base_url: str, body: dict) -> str:
    route = "completions" if "prompt" in body else "chat/completions"
    data = json.dumps({**body, "stream": True}, indent=2, ensure_ascii=False).replace("'", "'\\''")
    return "\n".join(
        [
            f"curl -N {base_url.rstrip('/')}/{route} \\",
            f'  -H "Authorization: Bearer ${KEY_ENV}" \\',
            '  -H "Content-Type: application/json" \\',
            f"  -d '{data}'",
        ]
    )
