"""Stop strings over arbitrary chunking: the output is the text up to the first stop."""

from __future__ import annotations

import random

import pytest

from tokenfactory.services.stops import StopMatcher


def reference(text: str, stops: list[str]) -> tuple[str, bool]:
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    return (text[: min(found)], True) if found else (text, False)


def feed_all(pieces: list[str], stops: list[str]) -> tuple[list[str], bool]:
    m = StopMatcher(stops)
    out = [m.feed(p) for p in pieces]
    out.append(m.flush())
    return out, m.stopped


@pytest.mark.parametrize("seed", range(300))
def test_random_chunking_matches_the_reference(seed):
    rng = random.Random(seed)
    alphabet = "ab\nc"
    stops = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
        for _ in range(rng.randint(1, 3))
    ]
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
    pieces, i = [], 0
    while i < len(text):
        n = rng.randint(1, 4)
        pieces.append(text[i : i + n])
        i += n
    out, stopped = feed_all(pieces, stops)
    assert ("".join(out), stopped) == reference(text, stops)


def test_a_partial_match_is_held_back_until_it_resolves():
    m = StopMatcher(["</answer>"])
    assert m.feed("42 </ans") == "42 "
    assert m.feed("wer> more") == ""
    assert m.stopped
    m = StopMatcher(["</answer>"])
    assert m.feed("a </an") == "a "
    assert m.feed("d b") == "</and b"
    assert m.flush() == ""
