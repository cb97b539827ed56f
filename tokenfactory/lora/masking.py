"""Chat examples → token ids and labels that supervise the assistant's tokens only.

The chat template has no generation markers, so each assistant turn is found by prefix length:
the tokens of ``template(messages[:i], add_generation_prompt=True)`` are the prompt and those
up to ``template(messages[:i + 1])`` are the answer (its end-of-turn token included, so the
model learns to stop). Everything else gets the label -100 (ignored by the loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IGNORE = -100


@dataclass
class TokenizedExample:
    input_ids: list[int]
    labels: list[int]

    @property
    def supervised(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def _ids(tokenizer: Any, messages: list[dict], generation_prompt: bool) -> list[int]:
    out = tokenizer.apply_chat_template(
        messages, add_generation_prompt=generation_prompt, tokenize=True, return_dict=False
    )
    return list(out)


def tokenize_example(tokenizer: Any, messages: list[dict], max_tokens: int) -> TokenizedExample:
    full = _ids(tokenizer, messages, False)
    labels = [IGNORE] * len(full)
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start = len(_ids(tokenizer, messages[:i], True))
        end = len(_ids(tokenizer, messages[: i + 1], False))
        for j in range(start, min(end, len(full))):
            labels[j] = full[j]
    return TokenizedExample(full[:max_tokens], labels[:max_tokens])


def tokenize_all(
    tokenizer: Any, examples: list[list[dict]], max_tokens: int
) -> list[TokenizedExample]:
    """Tokenize every example; one with no answer token left after truncation is an error."""
    out = []
    for number, messages in enumerate(examples, start=1):
        item = tokenize_example(tokenizer, messages, max_tokens)
        if item.supervised == 0:
            raise ValueError(
                f"example {number}: no assistant tokens within the first {max_tokens} tokens;"
                " shorten it or raise max_tokens"
            )
        out.append(item)
    return out
