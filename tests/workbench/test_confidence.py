"""Label probabilities and field confidences from logprob entries (the chat wire shape)."""

from __future__ import annotations

import math

import pytest

from tokenfactory.workbench.confidence import field_confidences, label_probabilities, value_spans


def entry(token, p, alternatives=()):
    return {
        "token": token,
        "logprob": math.log(p),
        "top_logprobs": [{"token": t, "logprob": math.log(q)} for t, q in alternatives],
    }


def test_the_deciding_token_shares_its_probability_among_the_labels():
    entries = [
        entry('"', 1.0),
        entry("pos", 0.6, [("pos", 0.6), ("neg", 0.3), ("xyz", 0.1)]),
        entry("itive", 1.0),
        entry('"', 1.0),
    ]
    p = label_probabilities(entries, ["positive", "negative"])
    assert p["positive"] == pytest.approx(0.6 / 0.9)
    assert p["negative"] == pytest.approx(0.3 / 0.9)
    assert sum(p.values()) == pytest.approx(1.0)


def test_labels_sharing_a_prefix_are_decided_at_the_next_token():
    entries = [
        entry('"ne', 0.5, [('"ne', 0.5), ('"pos', 0.5)]),
        entry("g", 0.8, [("g", 0.8), ("ut", 0.2)]),
        entry('ative"', 1.0),
    ]
    p = label_probabilities(entries, ["positive", "negative", "neutral"])
    assert p == pytest.approx({"positive": 0.5, "negative": 0.4, "neutral": 0.1})


def test_an_answer_with_no_alternatives_is_certain():
    p = label_probabilities([entry('"yes"', 0.9)], ["yes", "no"])
    assert p == pytest.approx({"yes": 1.0, "no": 0.0})


def test_value_spans_and_field_confidence():
    text = '{"name": "Ada", "age": 36}'
    spans = value_spans(text)
    assert text[slice(*spans["name"])] == '"Ada"' and text[slice(*spans["age"])] == "36"
    tokens = [
        entry('{"', 1.0),
        entry("name", 1.0),
        entry('":', 1.0),
        entry(' "', 1.0),
        entry("Ada", 0.5),
        entry('",', 1.0),
        entry(' "age":', 1.0),
        entry(" ", 1.0),
        entry("3", 0.8),
        entry("6", 0.5),
        entry("}", 1.0),
    ]
    conf = field_confidences(text, tokens)
    assert conf["name"] == pytest.approx(0.5)
    assert conf["age"] == pytest.approx(0.4)
    assert field_confidences("not json", tokens) == {}
