"""``tf.Playground()``: a chat (and raw-prompt completion) playground in a notebook cell.

The Python object works without a browser: ``pg.send("hi")`` streams an answer into
``pg.history`` (the trait the JavaScript renders), ``pg.stop()`` cuts it short,
``pg.regenerate()`` / ``pg.edit(i, text)`` redo a turn, ``pg.retry()`` resends what failed, and
``pg.messages`` / ``pg.to_pandas()`` export the conversation.

A send that fails leaves the history as it was and hands the text back in ``failed_input`` (the
browser puts it back in the message box). Settings the browser sends out of range are refused
beside their field (``field_errors``) and the field shows the value the kernel kept.

Stop acts outside the kernel's queue too: every request carries an ``X-Request-ID``
(``request_id``) that the page cancels through the Jupyter server extension
(``/tokenfactory/api/cancel``), so Stop works while a cell blocks in this kernel.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import traitlets

from . import code_view
from . import playground_settings as settings
from .api import ApiError, GatewayApi
from .base import GatewayWidget, css, esm
from .playground_answer import Answer

# how often (seconds) the streamed draft is pushed to the browser
DRAFT_INTERVAL = 0.05
# how long send() waits for the first model list (Run All sends right after creating the widget)
MODELS_WAIT = 60.0
#: the traits a browser sends that are checked before they are set
CHECKED = (*settings.RANGES, "stop_sequences", "json_schema", "tools", "mode", "response_format")


def _range(name: str) -> dict:
    low, high = settings.RANGES[name]
    return {"min": low, "max": high}


class Playground(GatewayWidget):
    _esm = esm("markdown.js", "playground_fields.js", "playground_messages.js", "playground.js")
    _css = css("playground.css")

    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    model = traitlets.Unicode("").tag(sync=True)
    adapter = traitlets.Unicode("").tag(sync=True)
    mode = traitlets.Enum(settings.MODES, "chat").tag(sync=True)
    system_prompt = traitlets.Unicode("").tag(sync=True)
    # sampling (the API's ranges; ``limits`` tells the browser)
    temperature = traitlets.Float(0.7, **_range("temperature")).tag(sync=True)
    top_p = traitlets.Float(1.0, **_range("top_p")).tag(sync=True)
    max_tokens = traitlets.Int(256, **_range("max_tokens")).tag(sync=True)
    presence_penalty = traitlets.Float(0.0, **_range("presence_penalty")).tag(sync=True)
    frequency_penalty = traitlets.Float(0.0, **_range("frequency_penalty")).tag(sync=True)
    seed = traitlets.Int(None, allow_none=True, **_range("seed")).tag(sync=True)
    stop_sequences = traitlets.List(traitlets.Unicode(), maxlen=settings.MAX_STOP).tag(sync=True)
    # structured output, tools, logprobs
    response_format = traitlets.Enum(settings.RESPONSE_FORMATS, "text").tag(sync=True)
    json_schema = traitlets.Dict().tag(sync=True)
    tools = traitlets.List(traitlets.Dict()).tag(sync=True)
    logprobs = traitlets.Bool(False).tag(sync=True)
    top_logprobs = traitlets.Int(0, **_range("top_logprobs")).tag(sync=True)
    limits = traitlets.Dict({k: list(v) for k, v in settings.RANGES.items()}).tag(sync=True)
    field_errors = traitlets.Dict().tag(sync=True)
    # the conversation
    history = traitlets.List(traitlets.Dict()).tag(sync=True)
    draft = traitlets.Unicode("").tag(sync=True)
    streaming = traitlets.Bool(False).tag(sync=True)
    request_id = traitlets.Unicode("").tag(sync=True)
    failed_input = traitlets.Unicode("").tag(sync=True)
    context_length = traitlets.Int(0).tag(sync=True)
    context_used = traitlets.Int(0).tag(sync=True)
    prompt_tokens = traitlets.Int(0).tag(sync=True)
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
        self._retry: Callable[[bool, float | None], str | None] | None = None
        self._answers: dict[str, str] = {}  # by request id, for the send() that waits on it
        self.model = model or ""
        self.adapter = adapter
        self.system_prompt = system_prompt
        self.on_action("send", lambda msg: self.send(str(msg.get("text", "")), wait=False))
        self.on_action("stop", lambda _msg: self.stop())
        self.on_action("clear", lambda _msg: self.clear())
        self.on_action("refresh", lambda _msg: self.refresh_models())
        self.on_action("retry", lambda _msg: self.retry(wait=False))
        self.on_action("regenerate", lambda _msg: self.regenerate(wait=False))
        self.on_action(
            "edit", lambda msg: self.edit(int(msg["index"]), str(msg.get("text", "")), wait=False)
        )
        self.observe(self._update_code, [*CODE_TRAITS, "history"])
        self.observe(self._accept_field, list(CHECKED))
        self.observe(self._count_on_change, ["history", "system_prompt", "model", "adapter"])
        self._update_code()
        if self.connection is not None:
            self.refresh_models()

    @traitlets.validate("top_p")
    def _top_p_above_zero(self, proposal: dict) -> float:
        problem = settings.range_refusal("top_p", proposal["value"])
        if problem is not None:
            raise traitlets.TraitError(problem)
        return float(proposal["value"])

    # -- the settings the browser sends
    def set_state(self, sync_data: dict) -> None:
        """A value out of range is refused: ``field_errors`` says why, beside the field, and
        the browser gets the kept value back (the trait would only log a TraitError)."""
        refused = {}
        for name in [n for n in sync_data if n in CHECKED]:
            problem = settings.refusal(name, sync_data[name])
            if problem is not None:
                refused[name] = problem
        accepted = {k: v for k, v in sync_data.items() if k not in refused}
        super().set_state(accepted)
        errors = {k: v for k, v in self.field_errors.items() if k not in accepted}
        if errors != self.field_errors or refused:
            self.field_errors = {**errors, **refused}
        if refused:
            self.send_state(list(refused))

    def _accept_field(self, change: dict) -> None:
        if change["name"] in self.field_errors:
            self.field_errors = {k: v for k, v in self.field_errors.items() if k != change["name"]}

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
                "context_length": m.get("context_length"),
            }
            for m in data
            if m.get("modality") in (None, "chat") and not m.get("parent")
        ]
        self.models = chat
        ids = [m["id"] for m in chat]
        if self.model not in ids and ids:
            loaded = [m["id"] for m in chat if m.get("status") == "loaded"]
            self.model = (loaded or ids)[0]
        self._set_context_length()

    @traitlets.observe("model")
    def _drop_foreign_adapter(self, change: dict) -> None:
        for m in self.models:
            if m["id"] == change["new"] and self.adapter not in m.get("adapters", []):
                self.adapter = ""
        self._set_context_length()

    def _set_context_length(self) -> None:
        entry = next((m for m in self.models if m["id"] == self.model), None)
        self.context_length = int((entry or {}).get("context_length") or 0)

    # -- context use
    def count_tokens(self) -> threading.Thread | None:
        """Count the conversation's tokens with the gateway (``/v1/tokenize``, the model's chat
        template, as the next request sends it) into ``context_used``. Where the gateway cannot
        count, the usage of the last answer stands in."""
        messages = self.messages
        model = self.request_model()
        if not any(m["role"] != "system" for m in messages):
            self.context_used = 0
            return None
        if self.connection is None or not model:
            return None
        body = {"model": model, "messages": messages, "add_generation_prompt": True}

        def count(api: GatewayApi) -> dict | None:
            try:
                return api.request("POST", "/v1/tokenize", json=body)
            except ApiError:
                return None

        return self.run_in_background(count, self._set_count, source="tokenize")

    def _set_count(self, answer: dict | None) -> None:
        if not answer:
            return
        self.context_used = int(answer.get("count") or 0)
        if answer.get("max_model_len"):
            self.context_length = int(answer["max_model_len"])

    def _count_on_change(self, _change: dict) -> None:
        self.count_tokens()

    # -- the conversation
    @property
    def messages(self) -> list[dict]:
        """The chat conversation as OpenAI ``messages`` (system prompt first, when set);
        raw-prompt completions are not part of it."""
        return self._messages(self.history)

    def _messages(self, history: list[dict]) -> list[dict]:
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return system + [
            {"role": m["role"], "content": m["content"]}
            for m in history
            if m.get("mode", "chat") == "chat"
        ]

    def to_pandas(self):
        import pandas as pd

        columns = [
            "role",
            "content",
            "model",
            "completion_tokens",
            "latency_s",
            "tokens_per_s",
            "finish_reason",
        ]
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
        return pd.DataFrame(rows, columns=columns)

    def clear(self) -> None:
        self.stop()
        self.history = []
        self.draft = ""
        self.error = ""
        self.failed_input = ""
        self.context_used = 0
        self.prompt_tokens = 0

    def params(self) -> dict:
        """The sampling settings of the next request (those left at their default omitted,
        except temperature, top_p and max_tokens)."""
        return settings.sampling(self)

    def request_model(self) -> str:
        return self.adapter or self.model

    def request_body(self, history: list[dict] | None = None) -> dict:
        """What the next request sends (without ``stream``): chat messages, or the last
        prompt in completion mode."""
        history = self.history if history is None else history
        model = self.request_model() or "MODEL_ID"
        if self.mode == "completion":
            prompts = [
                m["content"]
                for m in history
                if m["role"] == "user" and m.get("mode") == "completion"
            ]
            prompt = prompts[-1] if prompts else "Once upon a time"
            return {
                "model": model,
                "prompt": prompt,
                **self.params(),
                **settings.completion_extras(self),
            }
        messages = self._messages(history)
        if not any(m["role"] == "user" for m in messages):
            messages = [*messages, {"role": "user", "content": "Hello!"}]
        return {
            "model": model,
            "messages": messages,
            **self.params(),
            **settings.chat_extras(self),
        }

    # -- sending
    def send(self, text: str, *, wait: bool = True, timeout: float | None = 300.0) -> str | None:
        """Send a user message (in completion mode: a raw prompt) and stream the answer into
        ``history``.

        With ``wait=True`` (the default from Python) this returns the answer's text, or None
        when the call failed (the reason is in ``error``, the text in ``failed_input``).
        """
        if self.mode == "chat":
            text = text.strip()
        if not text.strip():
            self.error = "Type a message first"
            return None
        turn = {"role": "user", "content": text}
        if self.mode == "completion":
            turn["mode"] = "completion"
        history = list(self.history)
        return self._run(history, [*history, turn], text, wait=wait, timeout=timeout)

    def retry(self, *, wait: bool = True, timeout: float | None = 300.0) -> str | None:
        """Run the request that failed last again."""
        if self._retry is None:
            self.error = "Nothing to retry"
            return None
        again, self._retry = self._retry, None
        return again(wait, timeout)

    def regenerate(self, *, wait: bool = True, timeout: float | None = 300.0) -> str | None:
        """Ask again for the last answer: the turn it answered is sent once more."""
        users = [i for i, m in enumerate(self.history) if m["role"] == "user"]
        if not users:
            self.error = "Nothing to regenerate yet"
            return None
        last = users[-1]
        before = list(self.history)
        return self._run(
            before, before[: last + 1], "", wait=wait, timeout=timeout, action="regenerate"
        )

    def edit(
        self, index: int, text: str, *, wait: bool = True, timeout: float | None = 300.0
    ) -> str | None:
        """Replace the user turn ``index`` with ``text``; what followed it is answered anew."""
        if not 0 <= index < len(self.history) or self.history[index]["role"] != "user":
            self.error = f"Turn {index} is not a message of yours"
            return None
        if not text.strip():
            self.error = "Type a message first"
            return None
        before = list(self.history)
        turn = {**before[index], "content": text}
        return self._run(before, [*before[:index], turn], text, wait=wait, timeout=timeout)

    def _run(
        self,
        before: list[dict],
        history: list[dict],
        text: str,
        *,
        wait: bool,
        timeout: float | None,
        action: str = "send",
    ) -> str | None:
        """Send ``history`` (ending in a user turn); on failure the history goes back to
        ``before`` and ``text`` to ``failed_input``."""

        def again(wait: bool, timeout: float | None) -> str | None:
            if action == "regenerate":
                return self.regenerate(wait=wait, timeout=timeout)
            if self.history == before:
                return self._run(before, history, text, wait=wait, timeout=timeout)
            return self.send(text, wait=wait, timeout=timeout)

        def fail(message: str | None = None, *, restore: bool = True) -> None:
            if restore:
                self.history = before
            self.failed_input = text
            self._retry = again
            if message is not None:
                self.error = message

        if self.streaming:
            fail("An answer is still streaming: stop it or wait for it", restore=False)
            return None
        if not self.request_model():
            self._wait_for_models(MODELS_WAIT)
        if not self.request_model():
            failure = self._errors_by_source.get("models")
            fail(
                None
                if self.error == failure and failure
                else ("Pick a model first (the gateway lists no chat model)")
            )
            return None
        if self.connection is None:
            fail(self.error or "Not connected to a gateway")
            return None
        self.error = ""
        self.failed_input = ""
        self._retry = None
        self.history = history
        body = {**self.request_body(history), "model": self.request_model()}
        request_id = f"pg-{uuid.uuid4().hex}"
        self._stop.clear()
        self.request_id = request_id
        self.streaming = True
        self.draft = ""

        def failed(_exc: BaseException) -> None:
            fail()
            self._finish()

        self._stream_thread = self.run_in_background(
            lambda api: self._stream(api, body, request_id),
            on_error=failed,
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
        return self._answers.pop(request_id, None)

    def stop(self) -> None:
        """Stop the answer being streamed; what arrived so far stays in the history."""
        self._stop.set()
        thread = self._stream_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)

    def _stream(self, api: GatewayApi, body: dict, request_id: str) -> None:
        completion = "prompt" in body
        answer = Answer(completion=completion)
        pushed_at = 0.0
        headers = {"X-Request-ID": request_id}
        stream = (
            api.stream_completion(body, headers=headers)
            if completion
            else api.stream_chat(body, headers=headers)
        )
        try:
            for chunk in stream:
                answer.feed(chunk)
                now = time.perf_counter()
                if now - pushed_at >= DRAFT_INTERVAL:
                    self.draft = answer.text
                    pushed_at = now
                if self._stop.is_set():
                    break
        finally:
            stream.close()
        # a stream that ends with no finish reason was cancelled through the gateway (Stop)
        stopped = self._stop.is_set() or answer.finish_reason is None
        if answer.empty and not stopped:
            raise ApiError("The model returned an empty answer")
        result = answer.result(body["model"], stopped=stopped)
        usage = answer.usage or {}
        if usage:  # until /v1/tokenize has counted the conversation with this answer
            self.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            self.context_used = self.prompt_tokens + int(usage.get("completion_tokens") or 0)
        self.history = [*self.history, result]
        self._answers[request_id] = result["content"]
        self._finish()

    def _finish(self) -> None:
        self.draft = ""
        self.streaming = False
        self.request_id = ""

    # -- view as code
    def code(self) -> dict[str, str]:
        """The SDK and curl calls that send the current conversation with these settings."""
        body = self.request_body()
        base_url = self.base_url or "http://127.0.0.1:8000/v1"
        return {
            "python": code_view.python_code(base_url, body),
            "curl": code_view.curl_code(base_url, body),
        }

    def _update_code(self, _change: Any = None) -> None:
        snippets = self.code()
        self.code_python = snippets["python"]
        self.code_curl = snippets["curl"]


#: the traits "view as code" follows
CODE_TRAITS = [
    "model",
    "adapter",
    "mode",
    "system_prompt",
    "temperature",
    "top_p",
    "max_tokens",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "stop_sequences",
    "response_format",
    "json_schema",
    "tools",
    "logprobs",
    "top_logprobs",
]
