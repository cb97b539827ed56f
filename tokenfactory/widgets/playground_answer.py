"""One streamed answer of the Playground, gathered chunk by chunk (chat or text completion).

``Answer.feed(chunk)`` takes the chunks as the SDK yields them (dicts); ``text`` is the draft
shown while it streams; ``result(...)`` is the finished history entry: content, tool calls,
finish reason, per-token logprobs (the heat-map's data) and timing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

REPLACEMENT = "\ufffd"


@dataclass
class Answer:
    completion: bool = False  # a /v1/completions stream (``choices[].text``)
    started: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None
    parts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict | None = None
    chunks: int = 0
    tool_calls: dict[int, dict] = field(default_factory=dict)
    logprobs: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def feed(self, chunk: dict) -> None:
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if self.completion:
                delta = choice.get("text") or ""
            else:
                message = choice.get("delta") or {}
                delta = message.get("content") or ""
                for call in message.get("tool_calls") or []:
                    self._feed_tool_call(call)
            if delta:
                self.chunks += 1
                self.first_token_at = self.first_token_at or time.perf_counter()
                self.parts.append(delta)
            self._feed_logprobs(choice.get("logprobs"))
            self.finish_reason = choice.get("finish_reason") or self.finish_reason

    def _feed_tool_call(self, call: dict) -> None:
        self.first_token_at = self.first_token_at or time.perf_counter()
        entry = self.tool_calls.setdefault(
            int(call.get("index") or 0), {"id": None, "name": "", "arguments": ""}
        )
        function = call.get("function") or {}
        entry["id"] = call.get("id") or entry["id"]
        entry["name"] += function.get("name") or ""
        entry["arguments"] += function.get("arguments") or ""

    def _feed_logprobs(self, logprobs: dict | None) -> None:
        if not logprobs:
            return
        if self.completion:
            tops = logprobs.get("top_logprobs") or []
            for i, (token, logprob) in enumerate(
                zip(
                    logprobs.get("tokens") or [], logprobs.get("token_logprobs") or [], strict=False
                )
            ):
                top = tops[i] if i < len(tops) and tops[i] else {}
                self.logprobs.append(
                    {
                        "token": token,
                        "logprob": logprob,
                        "top": [{"token": t, "logprob": lp} for t, lp in top.items()],
                    }
                )
            return
        for entry in logprobs.get("content") or []:
            self.logprobs.append(
                {
                    "token": entry.get("token", ""),
                    "logprob": entry.get("logprob"),
                    "top": [
                        {"token": t.get("token", ""), "logprob": t.get("logprob")}
                        for t in entry.get("top_logprobs") or []
                    ],
                }
            )

    def content(self) -> str:
        """The answer's text; a character the token limit cut in half is dropped, not shown
        as U+FFFD (the engine decodes the bytes it has, and the rest never came)."""
        text = self.text
        if self.finish_reason == "length":
            text = text.rstrip(REPLACEMENT)
        return text

    def result(self, model: str, *, stopped: bool) -> dict:
        ended = time.perf_counter()
        tokens = (self.usage or {}).get("completion_tokens") or self.chunks
        decode_s = ended - (self.first_token_at or self.started)
        stats = {
            "completion_tokens": tokens,
            "prompt_tokens": (self.usage or {}).get("prompt_tokens"),
            "latency_s": round((self.first_token_at or ended) - self.started, 3),
            "total_s": round(ended - self.started, 3),
            "tokens_per_s": round(tokens / decode_s, 1) if decode_s > 0 and tokens > 1 else None,
        }
        answer: dict = {
            "role": "assistant",
            "content": self.content(),
            "model": model,
            "finish_reason": "stopped" if stopped else self.finish_reason,
            "stats": stats,
        }
        if self.tool_calls:
            answer["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        if self.logprobs:
            answer["logprobs"] = self.logprobs
        if self.completion:
            answer["mode"] = "completion"
        return answer

    @property
    def empty(self) -> bool:
        return not self.parts and not self.tool_calls
