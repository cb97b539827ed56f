"""``tf.EvalGrid``: built from an EvalResult, it holds the summary with intervals, the rows with
answers diffed against the baseline, and an order that sorting and filtering change."""

from __future__ import annotations

import pandas as pd
import pytest

import tokenfactory as tf
from tokenfactory.widgets.eval_grid import EvalGrid, word_diff
from tokenfactory.workbench.result import EvalResult


def result() -> EvalResult:
    answers = {
        "base": ["4", "Paris", "blue sky", "7"],
        "tuned": ["4", "Lyon", "a blue sky", "8"],
    }
    scores = {"base": [1.0, 1.0, 0.0, 1.0], "tuned": [1.0, 0.0, 1.0, 0.0]}
    records = []
    for c in answers:
        for i in range(4):
            records.append(
                {
                    "row": i,
                    "candidate": c,
                    "prompt": f"question {i}",
                    "answer": answers[c][i],
                    "error": None,
                    "exact_match": scores[c][i],
                    "latency_s": 0.1 * (i + 1) * (2 if c == "tuned" else 1),
                    "completion_tokens": 3,
                    "cost_usd": 1e-6,
                    "metric_errors": None,
                }
            )
    return EvalResult(
        frame=pd.DataFrame(records),
        metrics=["exact_match", "latency_s"],
        candidates=["base", "tuned"],
        baseline="base",
        higher_is_better={"exact_match": True, "latency_s": False},
    )


def test_word_diff_marks_inserted_and_deleted_words():
    assert word_diff("the blue sky", "a blue sky") == [
        {"op": "del", "text": "the"},
        {"op": "ins", "text": "a"},
        {"op": "eq", "text": " blue sky"},
    ]
    assert word_diff("same", "same") == [{"op": "eq", "text": "same"}]


def test_the_grid_holds_the_summary_and_puts_disagreements_first():
    grid = tf.EvalGrid(result())
    assert grid.error == ""
    assert grid.candidates == ["base", "tuned"] and grid.baseline == "base"
    tuned_em = next(
        s for s in grid.summary if s["candidate"] == "tuned" and s["metric"] == "exact_match"
    )
    assert tuned_em["diff"] == pytest.approx(-0.25)
    assert tuned_em["ci_low"] <= -0.25 <= tuned_em["ci_high"]
    # rows 1, 2, 3 disagree (row 0 does not): they come first, in data order
    assert [grid.rows[i]["row"] for i in grid.order] == [1, 2, 3, 0]
    row2 = grid.rows[2]
    assert row2["diffs"]["tuned"][0] == {"op": "ins", "text": "a "}
    assert row2["scores"]["tuned"]["exact_match"] == 1.0


def test_sorting_and_filtering_change_the_rows_shown():
    grid = EvalGrid(result())
    grid.sort_by = "latency_s@tuned"
    assert list(grid.visible()["row"]) == [3, 2, 1, 0]
    grid.descending = False
    assert list(grid.visible()["row"]) == [0, 1, 2, 3]
    grid.sort_by = "exact_match"  # the spread between candidates
    grid.descending = True
    assert list(grid.visible()["row"])[-1] == 0
    grid.only_disagreements = True
    assert 0 not in list(grid.visible()["row"])
    grid.only_disagreements = False
    grid.differs_on = "exact_match"
    assert sorted(grid.visible()["row"]) == [1, 2, 3]
    grid.differs_on = ""
    grid.query = "lyon"
    assert list(grid.visible()["row"]) == [1]
    grid.sort_by = "nonsense"
    assert "cannot sort by 'nonsense'" in grid.error


def test_a_bad_baseline_is_shown_not_raised():
    grid = EvalGrid(result(), baseline="nobody")
    assert "nobody" in grid.error and grid.rows == []
