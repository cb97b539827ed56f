"""``tf.Playground()``: a chat playground in a notebook cell.

The Python object works without a browser: ``pg.send("hi")`` streams an answer into
``pg.history`` (the trait the JavaScript renders), ``pg.stop()`` cuts it short, and
``pg.messages`` / ``pg.to_pandas()`` export the conversation.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import traitlets

from . import code_view
from .api import ApiError, GatewayApi
from .base import GatewayWidget, css, esm

# how often (seconds) the streamed draft is pushed to the browser
DRAFT_INTERVAL = 0.05
# how long send() waits for the first model list (Run All sends right after creating the widget)
MODELS_WAIT = 60.0


class Playground(GatewayWidget):
    _esm = esm("markdown.js", "playground.js")
    _css = css("playground.css")

    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    model = traitlets.Unicode("").tag(sync=True)
    adapter = traitlets.Unicode("").tag(sync=True)
    system_prompt = traitlets.Unicode("").tag(sync=True)
    temperature = traitlets.Float(0.7, min=0.0, max=2.0).tag(sync=True)
    top_p = traitlets.Float(1.0, min=0.0, max=1.0).tag(sync=True)
    max_tokens = traitlets.Int(256, min=1).tag(sync=True)
    history = traitlets.List(traitlets.Dict()).tag(sync=True)
    draft = traitlets.Unicode("").tag(sync=True)
    streaming = traitlets.Bool(False).tag(sync=True)
    code_python = traitlets.Unicode("").tag(sync=True)
    code_curl = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        adapter: str = "",
        system_prompt: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url=base_url, api_key=api_key, **kwargs)
        self._stop = threading.Event()
        self._stream_thread: threading.Thread | None = None
        self._models_call: threading.Thread | None = None
        self.model = model or ""
        self.adapter = adapter
        self.system_prompt = system_prompt
        self.on_action("send", lambda msg: self.send(str(msg.get("text", "")), wait=False))
        self.on_action("stop", lambda _msg: self.stop())
        self.on_action("clear", lambda _msg: self.clear())
        self.on_action("refresh", lambda _msg: self.refresh_models())
        self.observe(
            self._update_code,
            ["model", "adapter", "system_prompt", "temperature", "top_p", "max_tokens", "history"],
        )
        self._update_code()
        if self.connection is not None:
            self.refresh_models()

    # -- models
    def refresh_models(self) -> threading.Thread:
        """Fetch the chat models (and their adapters) from ``/v1/models``."""
        self._models_call = self.run_in_background(
            lambda api: api.models(), self._set_models, source="models"
        )
        return self._models_call

    def _wait_for_models(self, timeout: float) -> None:
        call = self._models_call
        if call is not None and call is not threading.current_thread():
            call.join(timeout)

    def _set_models(self, data: list[dict]) -> None:
        chat = [
            {
                "id": m["id"],
                "status": m.get("status"),
                "adapters": list(m.get("adapters") or []),
            }
            for m in data
            if m.get("modality") in (None, "chat") and not m.get("parent")
        ]
        self.models = chat
        ids = [m["id"] for m in chat]
        if self.model not in ids and ids:
            loaded = [m["id"] for m in chat if m.get("status") == "loaded"]
            self.model = (loaded or ids)[0]

    @traitlets.observe("model")
    def _drop_foreign_adapter(self, change: dict) -> None:
        for m in self.models:
            if m["id"] == change["new"] and self.adapter not in m.get("adapters", []):
                self.adapter = ""

    # -- the conversation
    @property
    def messages(self) -> list[dict]:
        """The conversation as OpenAI ``messages`` (system prompt first, when set)."""
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return system + [{"role": m["role"], "content": m["content"]} for m in self.history]

    def to_pandas(self):
        import pandas as pd

        rows = [
            {
                "role": m["role"],
                "content": m["content"],
                "model": m.get("model"),
                "completion_tokens": (m.get("stats") or {}).get("completion_tokens"),
                "latency_s": (m.get("stats") or {}).get("latency_s"),
                "tokens_per_s": (m.get("stats") or {}).get("tokens_per_s"),
                "finish_reason": m.get("finish_reason"),
            }
            for m in self.history
        ]
        columns = [
            "role",
            "content",
            "model",
            "completion_tokens",
            "latency_s",
            "tokens_per_s",
            "finish_reason",
        ]
        return pd.DataFrame(rows, columns=columns)

    def clear(self) -> None:
        self.stop()
        self.history = []
        self.draft = ""
        self.error = ""

    def params(self) -> dict:
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
        }

    def request_model(self) -> str:
        return self.adapter or self.model

    # -- sending
    def send(self, text: str, *, wait: bool = True, timeout: float | None = 300.0) -> str | None:
        """Send a user message and stream the answer into ``history``.

        With ``wait=True`` (the default from Python) this returns the answer's text, or None
        when the call failed (the reason is in ``error``).
        """
        text = text.strip()
        if not text:
            self.error = "Type a message first"
            return None
        if self.streaming:
            self.error = "An answer is still streaming: stop it or wait for it"
            return None
        if not self.request_model():
            self._wait_for_models(MODELS_WAIT)
        if not self.request_model():
            if self.error != self._errors_by_source.get("models"):  # else that failure says why
                self.error = "Pick a model first (the gateway lists no chat model)"
            return None
        self.error = ""
        self.history = [*self.history, {"role": "user", "content": text}]
        body = {"model": self.request_model(), "messages": self.messages, **self.params()}
        self._stop.clear()
        self.streaming = True
        self.draft = ""
        self._stream_thread = self.run_in_background(
            lambda api: self._stream(api, body),
            on_error=lambda _exc: self._finish(),
            source="send",
        )
        if not wait:
            return None
        self._stream_thread.join(timeout)
        if self._stream_thread.is_alive():
            # still streaming: say so (the answer's arrival takes this message away)
            message = f"No answer within {timeout:g} s; it is still streaming into pg.history"
            self._errors_by_source["send"] = message
            self.error = message
            return None
        last = self.history[-1] if self.history else None
        return last["content"] if last and last["role"] == "assistant" else None

    def stop(self) -> None:
        """Stop the answer being streamed; what arrived so far stays in the history."""
        self._stop.set()
        thread = self._stream_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)

    def _stream(self, api: GatewayApi, body: dict) -> None:
        started = time.perf_counter()
        first_token_at: float | None = None
        pushed_at = 0.0
        parts: list[str] = []
        usage: dict | None = None
        finish_reason: str | None = None
        chunks = 0
        stream = api.stream_chat(body)
        try:
            for chunk in stream:
                if chunk.get("usage"):
                    usage = chunk["usage"]
                for choice in chunk.get("choices") or []:
                    delta = (choice.get("delta") or {}).get("content") or ""
                    if delta:
                        chunks += 1
                        first_token_at = first_token_at or time.perf_counter()
                        parts.append(delta)
                    finish_reason = choice.get("finish_reason") or finish_reason
                now = time.perf_counter()
                if now - pushed_at >= DRAFT_INTERVAL:
                    self.draft = "".join(parts)
                    pushed_at = now
                if self._stop.is_set():
                    finish_reason = "stopped"
                    break
        finally:
            stream.close()
        ended = time.perf_counter()
        if not parts and finish_reason != "stopped":
            raise ApiError("The model returned an empty answer")
        tokens = (usage or {}).get("completion_tokens") or chunks
        decode_s = ended - (first_token_at or started)
        stats = {
            "completion_tokens": tokens,
            "prompt_tokens": (usage or {}).get("prompt_tokens"),
            "latency_s": round((first_token_at or ended) - started, 3),
            "total_s": round(ended - started, 3),
            "tokens_per_s": round(tokens / decode_s, 1) if decode_s > 0 and tokens > 1 else None,
        }
        answer = {
            "role": "assistant",
            "content": "".join(parts),
            "model": body["model"],
            "finish_reason": finish_reason,
            "stats": stats,
        }
        self.history = [*self.history, answer]
        self._finish()

    def _finish(self) -> None:
        self.draft = ""
        self.streaming = False

    # -- view as code
    def code(self) -> dict[str, str]:
        """The SDK and curl calls that send the current conversation with these settings."""
        messages = self.messages
        if not any(m["role"] == "user" for m in messages):
            messages = [*messages, {"role": "user", "content": "Hello!"}]
        body = code_view.request_body(self.request_model() or "MODEL_ID", messages, self.params())
        base_url = self.base_url or "http://127.0.0.1:8000/v1"
        return {
            "python": code_view.python_code(base_url, body),
            "curl": code_view.curl_code(base_url, body),
        }

    def _update_code(self, _change: Any = None) -> None:
        snippets = self.code()
        self.code_python = snippets["python"]
        self.code_curl = snippets["curl"]
