"""``EvalResult``: what ``tf.evaluate`` returns, and what survives the kernel.

- ``frame``: tidy, one row per (data row, candidate): ``row``, ``candidate``, ``model``,
  ``prompt``, ``answer``, ``error``, one column per metric, ``prompt_tokens``,
  ``completion_tokens``, ``latency_s``, ``cost_usd``, ``metric_errors``.
- ``summary(baseline=...)``: one row per candidate: each metric's mean and, against the
  baseline, the mean difference with a paired bootstrap confidence interval.
- ``to_parquet(path)`` / ``EvalResult.from_parquet(path)``; ``EvalResult.from_job(batch_id)``
  rebuilds the answers of an evaluation's batch job (and scores them again when given metrics).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bootstrap import paired_bootstrap

if TYPE_CHECKING:
    import pandas as pd

    from tokenfactory.sdk import TokenFactory

META_KEY = b"tokenfactory.eval"
COST_COLUMNS = ("prompt_tokens", "completion_tokens", "latency_s", "cost_usd")


@dataclass
class EvalResult:
    frame: pd.DataFrame
    metrics: list[str]
    candidates: list[str]
    baseline: str
    data: pd.DataFrame | None = None
    batch_ids: list[str] = field(default_factory=list)
    higher_is_better: dict[str, bool] = field(default_factory=dict)

    # -- views ------------------------------------------------------------------------------
    def wide(self, value: str = "answer") -> pd.DataFrame:
        """One row per data row, one column per candidate, holding ``value``."""
        table = self.frame.pivot(index="row", columns="candidate", values=value)
        return table[self.candidates]

    def intervals(
        self, baseline: str | None = None, *, confidence: float = 0.95, resamples: int = 2000
    ) -> pd.DataFrame:
        """Long form: one row per (candidate, metric) with the paired difference against
        ``baseline`` and its bootstrap interval (the baseline's own rows have diff 0)."""
        import pandas as pd

        baseline = self._baseline(baseline)
        base = self.wide_metric_frame(baseline)
        rows = []
        for name in self.candidates:
            mine = self.wide_metric_frame(name)
            for metric in self.metrics:
                a, b = mine[metric].to_numpy(float), base[metric].to_numpy(float)
                interval = paired_bootstrap(
                    a, b, confidence=confidence, resamples=resamples, seed=_seed(name, metric)
                )
                rows.append(
                    {
                        "candidate": name,
                        "metric": metric,
                        "mean": float(pd.Series(a).mean()),
                        "baseline_mean": float(pd.Series(b).mean()),
                        "diff": interval.diff,
                        "ci_low": interval.low,
                        "ci_high": interval.high,
                        "n": interval.n,
                        "significant": bool(name != baseline and interval.excludes_zero),
                    }
                )
        return pd.DataFrame(rows)

    def summary(
        self, baseline: str | None = None, *, confidence: float = 0.95, resamples: int = 2000
    ) -> pd.DataFrame:
        """One row per candidate: rows, failed requests, each metric's mean, its difference
        to ``baseline`` with a ``confidence`` interval (``metric_diff``, ``metric_ci_low``,
        ``metric_ci_high``), mean tokens and latency, and the total cost."""
        import pandas as pd

        baseline = self._baseline(baseline)
        long = self.intervals(baseline, confidence=confidence, resamples=resamples)
        out = []
        for name in self.candidates:
            mine = self.frame[self.frame["candidate"] == name]
            row: dict[str, Any] = {
                "candidate": name,
                "rows": len(mine),
                "failed": int(mine["error"].notna().sum()),
            }
            for metric in self.metrics:
                hit = long[(long["candidate"] == name) & (long["metric"] == metric)].iloc[0]
                row[metric] = hit["mean"]
                if name != baseline:
                    row[f"{metric}_diff"] = hit["diff"]
                    row[f"{metric}_ci_low"] = hit["ci_low"]
                    row[f"{metric}_ci_high"] = hit["ci_high"]
            row["completion_tokens"] = mine["completion_tokens"].mean()
            row["latency_s"] = mine["latency_s"].mean()
            row["cost_usd"] = mine["cost_usd"].sum()
            out.append(row)
        table = pd.DataFrame(out).set_index("candidate")
        table.attrs.update(baseline=baseline, confidence=confidence)
        return table

    def disagreements(self) -> pd.DataFrame:
        """The wide answers of the rows where candidates answered differently, first the
        rows with the most distinct answers."""
        answers = self.wide("answer")
        distinct = answers.apply(lambda r: r.astype(str).str.strip().nunique(), axis=1)
        return (
            answers[distinct > 1]
            .assign(distinct=distinct)
            .sort_values("distinct", ascending=False, kind="stable")
        )

    def wide_metric_frame(self, candidate: str) -> pd.DataFrame:
        part = self.frame[self.frame["candidate"] == candidate].set_index("row").sort_index()
        return part[self.metrics] if self.metrics else part[[]]

    def _baseline(self, baseline: str | None) -> str:
        baseline = baseline or self.baseline
        if baseline not in self.candidates:
            raise KeyError(f"baseline {baseline!r} is not a candidate ({self.candidates})")
        return baseline

    # -- persistence ------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "candidates": self.candidates,
            "baseline": self.baseline,
            "batch_ids": self.batch_ids,
            "higher_is_better": self.higher_is_better,
            "data": None if self.data is None else self.data.to_json(orient="table"),
        }

    def to_parquet(self, path: str | Path) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(self.frame, preserve_index=False)
        metadata = dict(table.schema.metadata or {})
        metadata[META_KEY] = json.dumps(self.meta()).encode()
        pq.write_table(table.replace_schema_metadata(metadata), str(path))
        return Path(path)

    @classmethod
    def from_parquet(cls, path: str | Path) -> EvalResult:
        import io

        import pandas as pd
        import pyarrow.parquet as pq

        table = pq.read_table(str(path))
        meta = json.loads((table.schema.metadata or {})[META_KEY])
        data = meta.get("data")
        return cls(
            frame=table.to_pandas(),
            metrics=meta["metrics"],
            candidates=meta["candidates"],
            baseline=meta["baseline"],
            data=None if data is None else pd.read_json(io.StringIO(data), orient="table"),
            batch_ids=meta.get("batch_ids") or [],
            higher_is_better=meta.get("higher_is_better") or {},
        )

    @classmethod
    def from_job(
        cls,
        batch_id: str,
        *,
        data: Any = None,
        metrics: Any = None,
        reference: str = "reference",
        baseline: str | None = None,
        client: TokenFactory | None = None,
        progress: bool = True,
    ) -> EvalResult:
        """The evaluation an earlier ``tf.evaluate`` submitted as ``batch_id`` (waits for it
        to finish). Answers, tokens, latency and cost come from the job; pass the same
        ``data`` and ``metrics`` to score them (the metrics run again, here)."""
        from .evaluate import rebuild

        return rebuild(batch_id, data, metrics, reference, baseline, client, progress)

    # -- display ----------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        summary = self.summary()
        caption = (
            f"<p><b>Evaluation</b>: {self.frame['row'].nunique()} rows × "
            f"{len(self.candidates)} candidates, baseline <code>{self.baseline}</code>; "
            "intervals are 95% paired bootstrap. <code>tf.EvalGrid(result)</code> shows the "
            "answers.</p>"
        )
        return caption + summary.to_html(float_format=lambda v: f"{v:.3g}")

    def __repr__(self) -> str:
        rows = self.frame["row"].nunique() if len(self.frame) else 0
        return (
            f"EvalResult({rows} rows x {len(self.candidates)} candidates, "
            f"metrics={self.metrics}, baseline={self.baseline!r})"
        )


def _seed(candidate: str, metric: str) -> int:
    import zlib

    return zlib.crc32(f"{candidate}\x00{metric}".encode())
