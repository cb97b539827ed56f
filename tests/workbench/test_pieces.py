"""The workbench's pure parts: templates, candidates, metrics, the paired bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from tokenfactory.workbench import metrics as M
from tokenfactory.workbench.bootstrap import paired_bootstrap
from tokenfactory.workbench.candidates import Candidate, as_candidates, candidate
from tokenfactory.workbench.dispatch import LineResult
from tokenfactory.workbench.errors import TemplateError, WorkbenchError
from tokenfactory.workbench.metrics import Context, Item
from tokenfactory.workbench.templates import Template


def test_format_and_jinja_templates_know_their_columns():
    assert Template("Q: {question} ({topic!r})").fields == {"question", "topic"}
    assert Template("{{ question }}{% if hint %} hint: {{ hint }}{% endif %}").fields == {
        "question",
        "hint",
    }
    assert Template("{{ q | upper }}").render({"q": "hi"}) == "HI"
    assert Template("{q}?").render({"q": "why"}) == "why?"


def test_an_unknown_column_names_the_template_and_the_columns():
    with pytest.raises(TemplateError, match=r"'qestion'.*columns: \['question'\]"):
        Template("{qestion}").check(["question"])
    with pytest.raises(TemplateError, match="positional"):
        _ = Template("{}").fields


def test_candidates_from_ids_dicts_and_settings_get_unique_names():
    cands = as_candidates(["m", candidate("m", temperature=0.7), {"model": "a@epoch-1"}])
    assert [c.label for c in cands] == ["m", "m [temperature=0.7]", "a@epoch-1"]
    named = as_candidates({"base": "m", "hot": candidate("m", temperature=1.0)})
    assert [c.label for c in named] == ["base", "hot"]
    assert named[1].body("hi", {"max_tokens": 5})["temperature"] == 1.0
    with pytest.raises(WorkbenchError, match="unknown candidate setting"):
        candidate("m", temprature=1.0)
    with pytest.raises(WorkbenchError, match="unique"):
        as_candidates([Candidate("a", name="x"), Candidate("b", name="x")])


def _items(answers, rows):
    return [
        Item(row, "c", "p", LineResult(str(i), answer=a, latency_s=0.5, completion_tokens=3))
        for i, (a, row) in enumerate(zip(answers, rows, strict=True))
    ]


def test_built_in_metrics():
    rows = [{"reference": "The Answer."}, {"reference": "3.14"}, {"reference": "x"}]
    items = _items(["the answer", "pi is about 3.1416", None], rows)
    ctx = Context(client=None)  # type: ignore[arg-type]
    assert M.exact_match().score(items, ctx).values == [0.0, 0.0, None]
    assert M.normalized_match().score(items, ctx).values == [1.0, 0.0, None]
    near = M.numeric_match(tolerance=0.01).score(items[1:2], ctx).values
    assert near == [1.0]
    assert M.regex(r"\d+\.\d+").score(items, ctx).values == [0.0, 1.0, None]
    assert M.latency().score(items, ctx).values == [0.5, 0.5, None]
    schema = {"type": "object", "required": ["a"]}
    js = _items(['{"a": 1}', '{"b": 1}', "nope"], [{}, {}, {}])
    assert M.json_valid(schema).score(js, ctx).values == [1.0, 0.0, 0.0]


def test_a_metric_that_raises_marks_the_row_and_scores_the_rest():
    def picky(row, answer):
        if answer == "boom":
            raise RuntimeError("cannot score this")
        return len(answer)

    metric = M.resolve([picky])[0]
    scores = metric.score(_items(["ab", "boom", "abc"], [{}, {}, {}]), Context(None))  # type: ignore[arg-type]
    assert scores.values == [2.0, None, 3.0]
    assert scores.errors[1] == "picky: RuntimeError: cannot score this"
    assert scores.errors[0] is None and scores.errors[2] is None


def test_metric_names_resolve_and_unknown_ones_are_refused():
    names = [m.name for m in M.resolve(["exact_match", "latency", "tokens"])]
    assert names == ["exact_match", "latency_s", "completion_tokens"]
    with pytest.raises(WorkbenchError, match="unknown metric 'exakt'"):
        M.resolve(["exakt"])
    with pytest.raises(WorkbenchError, match="needs column"):
        M.exact_match("answer").check(["question"])


def test_paired_bootstrap_finds_a_real_difference_and_not_a_fake_one():
    rng = np.random.default_rng(1)
    base = rng.random(200)
    better = base + 0.2 + rng.normal(0, 0.05, 200)
    interval = paired_bootstrap(better, base)
    assert interval.low < 0.2 < interval.high and interval.excludes_zero
    same = paired_bootstrap(base + rng.normal(0, 0.05, 200), base)
    assert same.low < 0 < same.high and not same.excludes_zero
    with_nan = paired_bootstrap([1.0, np.nan, 1.0], [0.0, 0.0, np.nan])
    assert with_nan.n == 1 and with_nan.diff == 1.0


def test_the_workbench_talks_to_the_gateway_only_through_the_sdk():
    from tests.sdk.test_import_rules import SDK_MAY_NOT_IMPORT, offending

    assert offending("workbench", SDK_MAY_NOT_IMPORT) == {}
