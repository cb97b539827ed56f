"""Tests that check a greedy answer's words hold only where greedy decoding is decided.

On SmolLM2 "What is the capital of France?" starts with "The" or "L'" by 0.1-0.3 nat, so which
one wins depends on the CPU's kernels (issue 27: vLLM's CPU backend on an AMX machine answers
"L'Étoile, la Marseillaise,"). ``CAPITAL_QUESTION`` asks for one word: every greedy step of its
answer ("The capital of France is Paris.") wins by 1.8 nat or more on the TransformersEngine.
``assert_greedy_answer`` reads the answer's own logprobs: where every step up to the expected
word wins by ``MIN_MARGIN_NAT`` it asserts the word; where one does not, the word is down to the
machine, so it says so (a warning) and checks the answer's properties only.
"""

from __future__ import annotations

import warnings
from typing import Any

CAPITAL_QUESTION = "What is the capital of France? Answer with one word."
CAPITAL = "Paris"
MIN_MARGIN_NAT = 1.0
#: ask for these on a request whose answer ``assert_greedy_answer`` checks
LOGPROBS = {"logprobs": True, "top_logprobs": 2}


class ThinGreedyMargin(UserWarning):
    """A greedy step won by less than ``MIN_MARGIN_NAT``: the words are the machine's choice."""


def _entries(logprobs: Any) -> list[dict]:
    content = logprobs.get("content") if isinstance(logprobs, dict) else logprobs.content
    return [e if isinstance(e, dict) else e.model_dump() for e in content or []]


def greedy_margin(logprobs: Any, word: str) -> float:
    """The smallest gap (nat) between the chosen token and the runner-up, over the tokens up to
    the one that completes ``word`` (all of them when it never appears)."""
    text, margin = "", float("inf")
    for entry in _entries(logprobs):
        alternatives = sorted((t["logprob"] for t in entry["top_logprobs"]), reverse=True)
        if len(alternatives) > 1:
            margin = min(margin, alternatives[0] - alternatives[1])
        text += entry["token"]
        if word in text:
            break
    return margin


def assert_greedy_answer(content: str | None, finish_reason: str, logprobs: Any, word: str) -> None:
    assert content and content.strip(), "an empty answer"
    assert finish_reason in ("stop", "length")
    margin = greedy_margin(logprobs, word)
    if margin >= MIN_MARGIN_NAT:
        assert word in content, f"{content!r} (every greedy step won by {margin:.2f} nat or more)"
    else:
        warnings.warn(
            ThinGreedyMargin(
                f"a greedy step of {content!r} won by only {margin:.2f} nat (< {MIN_MARGIN_NAT}):"
                f" whether it says {word!r} depends on this machine's kernels; checked its"
                " properties only",
            ),
            stacklevel=2,
        )
