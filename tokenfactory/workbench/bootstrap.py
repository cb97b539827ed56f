"""Paired bootstrap: a confidence interval for the mean difference of two candidates scored on
the same rows. Rows are resampled together, so row difficulty cancels out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Interval:
    diff: float  # mean(candidate - baseline) over rows both have a score for
    low: float
    high: float
    n: int  # paired rows

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def paired_bootstrap(
    candidate: Any,
    baseline: Any,
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """``candidate`` and ``baseline`` are equal-length score arrays (NaN = no score; pairs with
    a NaN on either side are left out). Percentile interval of ``resamples`` resampled means."""
    import numpy as np

    a = np.asarray(candidate, dtype=float)
    b = np.asarray(baseline, dtype=float)
    if a.shape != b.shape:
        raise ValueError("paired scores must have the same length")
    keep = ~(np.isnan(a) | np.isnan(b))
    d = a[keep] - b[keep]
    n = int(d.size)
    if n == 0:
        nan = float("nan")
        return Interval(nan, nan, nan, 0)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Interval(float(d.mean()), float(low), float(high), n)
