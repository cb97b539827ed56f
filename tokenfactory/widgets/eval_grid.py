"""``tf.EvalGrid(result)``: an evaluation's candidates side by side.

It shows what an :class:`~tokenfactory.workbench.result.EvalResult` already holds, and calls
nothing: the summary with each metric's difference to the baseline and its interval, and one
row per data row with every candidate's answer (its words diffed against the baseline's) and
scores. Rows where candidates disagree come first; the rows can be sorted by any metric
(``sort_by``: ``disagreement``, ``row``, ``<metric>`` (spread between candidates) or
``<metric>@<candidate>``), filtered to disagreements, to a metric that differs, or by text.
Sorting and filtering happen here in Python (``order`` lists the rows shown), so the view and
``grid.visible()`` always agree.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from .base import css, esm

if TYPE_CHECKING:
    import pandas as pd

    from ..workbench.result import EvalResult

_WORDS = re.compile(r"\s+|[^\s\w]|\w+")


def word_diff(baseline: str | None, answer: str | None) -> list[dict[str, str]]:
    """``answer`` as segments ``{"op": "eq"|"ins"|"del", "text"}`` against ``baseline``."""
    a = _WORDS.findall(baseline or "")
    b = _WORDS.findall(answer or "")
    out: list[dict[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append({"op": "eq", "text": "".join(b[j1:j2])})
            continue
        if i2 > i1:
            out.append({"op": "del", "text": "".join(a[i1:i2])})
        if j2 > j1:
            out.append({"op": "ins", "text": "".join(b[j1:j2])})
    return out


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


class EvalGrid(anywidget.AnyWidget):
    _esm = esm("eval_grid.js")
    _css = css("eval_grid.css")

    error = traitlets.Unicode("").tag(sync=True)
    candidates = traitlets.List(traitlets.Unicode()).tag(sync=True)
    metrics = traitlets.List(traitlets.Unicode()).tag(sync=True)
    higher_is_better = traitlets.Dict().tag(sync=True)
    baseline = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.List(traitlets.Dict()).tag(sync=True)
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    total_rows = traitlets.Int(0).tag(sync=True)
    # the view: set from the page or from Python
    sort_by = traitlets.Unicode("disagreement").tag(sync=True)
    descending = traitlets.Bool(True).tag(sync=True)
    only_disagreements = traitlets.Bool(False).tag(sync=True)
    differs_on = traitlets.Unicode("").tag(sync=True)  # a metric: rows where it differs
    query = traitlets.Unicode("").tag(sync=True)
    order = traitlets.List(traitlets.Int()).tag(sync=True)  # indexes into ``rows``, shown

    def __init__(
        self, result: EvalResult, *, baseline: str | None = None, max_rows: int = 500, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.result = result
        self.max_rows = max_rows
        try:
            self.baseline = result._baseline(baseline)
            self.candidates = list(result.candidates)
            self.metrics = list(result.metrics)
            self.higher_is_better = {m: result.higher_is_better.get(m, True) for m in self.metrics}
            self.summary = _records(result.intervals(self.baseline))
            self.rows = self._rows()
        except Exception as exc:  # a widget shows its error; it never raises into the page
            self.error = f"{type(exc).__name__}: {exc}"
        self.observe(
            lambda _change: self._reorder(),
            ["sort_by", "descending", "only_disagreements", "differs_on", "query"],
        )
        self._reorder()

    # -- the data ---------------------------------------------------------------------------
    def _rows(self) -> list[dict[str, Any]]:
        frame = self.result.frame
        self.total_rows = int(frame["row"].nunique())
        out = []
        for row_id, part in frame.groupby("row", sort=True):
            by = {str(r["candidate"]): r for r in part.to_dict("records")}
            base = by.get(self.baseline, {}).get("answer")
            answers = {c: by[c].get("answer") for c in self.candidates if c in by}
            distinct = len({str(a).strip() for a in answers.values() if a is not None})
            out.append(
                {
                    "row": int(row_id),
                    "prompt": str(next(iter(by.values())).get("prompt") or ""),
                    "answers": answers,
                    "diffs": {
                        c: word_diff(base, a) for c, a in answers.items() if c != self.baseline
                    },
                    "scores": {c: {m: _number(by[c].get(m)) for m in self.metrics} for c in by},
                    "errors": {
                        c: by[c].get("error") or by[c].get("metric_errors") or None for c in by
                    },
                    "distinct": distinct,
                    "disagree": distinct > 1,
                }
            )
            if len(out) >= self.max_rows:
                break
        return out

    # -- the view ---------------------------------------------------------------------------
    def sort_keys(self) -> list[str]:
        keys = ["disagreement", "row"]
        for m in self.metrics:
            keys.append(m)
            keys += [f"{m}@{c}" for c in self.candidates]
        return keys

    def _key(self, row: dict[str, Any]) -> float:
        if self.sort_by == "disagreement":
            return float(row["distinct"])
        if self.sort_by == "row":
            return float(row["row"])
        metric, _, candidate = self.sort_by.partition("@")
        if candidate:
            value = row["scores"].get(candidate, {}).get(metric)
            return -math.inf if value is None else value
        values = [s.get(metric) for s in row["scores"].values()]
        present = [v for v in values if v is not None]
        return max(present) - min(present) if present else -math.inf

    def _reorder(self) -> None:
        if self.sort_by not in self.sort_keys():
            self.error = f"cannot sort by {self.sort_by!r}; choose one of {self.sort_keys()}"
            return
        query = self.query.strip().lower()
        keep = []
        for i, row in enumerate(self.rows):
            if self.only_disagreements and not row["disagree"]:
                continue
            if self.differs_on:
                values = {s.get(self.differs_on) for s in row["scores"].values()}
                if len(values) < 2:
                    continue
            if query and query not in _haystack(row):
                continue
            keep.append(i)
        by_row = sorted(keep, key=lambda i: self.rows[i]["row"])  # ties keep data order
        self.order = sorted(by_row, key=lambda i: self._key(self.rows[i]), reverse=self.descending)

    def visible(self) -> pd.DataFrame:
        """The rows the grid shows, in its order, as the wide answers table."""
        import pandas as pd

        return pd.DataFrame(
            [{"row": self.rows[i]["row"], **self.rows[i]["answers"]} for i in self.order]
        )


def _haystack(row: dict[str, Any]) -> str:
    return " ".join([row["prompt"], *(str(a) for a in row["answers"].values())]).lower()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for record in frame.to_dict("records"):
        out.append({k: (_number(v) if isinstance(v, float) else v) for k, v in record.items()})
    return out
