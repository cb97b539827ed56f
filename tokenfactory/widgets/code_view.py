"""The SDK and curl calls equivalent to a Playground's current settings."""

from __future__ import annotations

import json
import pprint

KEY_ENV = "TOKENFACTORY_API_KEY"


def request_body(model: str, messages: list[dict], params: dict) -> dict:
    return {"model": model, "messages": messages, **params, "stream": True}


def python_code(base_url: str, body: dict) -> str:
    args = [f"    model={body['model']!r},"]
    messages = pprint.pformat(body["messages"], indent=1, width=88, sort_dicts=False)
    args.append("    messages=" + messages.replace("\n", "\n    ") + ",")
    args += [f"    {k}={v!r}," for k, v in body.items() if k not in ("model", "messages", "stream")]
    args.append("    stream=True,")
    return "\n".join(
        [
            "import os",
            "",
            "import tokenfactory as tf",
            "",
            f'client = tf.TokenFactory(base_url={base_url!r}, api_key=os.environ["{KEY_ENV}"])',
            "stream = client.chat.completions.create(",
            *args,
            ")",
            "for chunk in stream:",
            "    if chunk.choices:",
            '        print(chunk.choices[0].delta.content or "", end="")',
        ]
    )


def curl_code(base_url: str, body: dict) -> str:
    data = json.dumps(body, indent=2, ensure_ascii=False).replace("'", "'\\''")
    return "\n".join(
        [
            f"curl -N {base_url.rstrip('/')}/chat/completions \\",
            f'  -H "Authorization: Bearer ${KEY_ENV}" \\',
            '  -H "Content-Type: application/json" \\',
            f"  -d '{data}'",
        ]
    )
