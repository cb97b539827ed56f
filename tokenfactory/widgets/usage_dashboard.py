"""``tf.UsageDashboard()``: the workspace's usage and cost over time, filterable by model and tier.

Plots tokens, cost, latency percentiles (p50/p90/p99) and errors per time bucket from
``GET /v1/usage/timeseries``, with totals and the wallet balance from ``GET /v1/usage``, and
breaks the cost down by model and by end user (``by_model``, ``by_user``: ``/v1/usage`` grouped
by ``model`` / ``user``, the ``user`` field or ``X-TF-User`` of each request).
Changing ``model``, ``tier`` or ``bucket`` fetches again; ``refresh()`` does so on demand and
``auto_refresh`` (seconds, 0 = off) keeps it live. The data never includes another
workspace: the gateway answers for the key's workspace only.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Literal

import traitlets

from .api import GatewayApi
from .base import GatewayWidget, css, esm

SERIES = [
    "t",
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "ttft_p50_ms",
    "ttft_p90_ms",
]
BREAKDOWN = ["requests", "total_tokens", "cost_usd"]
NO_USER = "(no user)"


class UsageDashboard(GatewayWidget):
    _esm = esm("usage_dashboard.js")
    _css = css("usage_dashboard.css")

    points = traitlets.List(traitlets.Dict()).tag(sync=True)
    totals = traitlets.Dict().tag(sync=True)
    workspace = traitlets.Unicode("").tag(sync=True)
    workspace_tier = traitlets.Unicode("").tag(sync=True)
    balance_usd = traitlets.Float(None, allow_none=True).tag(sync=True)
    models = traitlets.List(traitlets.Unicode()).tag(sync=True)
    tiers = traitlets.List(traitlets.Unicode()).tag(sync=True)
    model = traitlets.Unicode("").tag(sync=True)
    tier = traitlets.Unicode("").tag(sync=True)
    bucket = traitlets.Enum(["minute", "hour", "day"], "minute").tag(sync=True)
    auto_refresh = traitlets.Float(0.0).tag(sync=True)
    updated_at = traitlets.Float(0.0).tag(sync=True)
    by_model = traitlets.List(traitlets.Dict()).tag(sync=True)  # {"model", "requests", ...}
    by_user = traitlets.List(traitlets.Dict()).tag(sync=True)  # {"user", "requests", ...}

    def __init__(
        self,
        *,
        model: str = "",
        tier: str = "",
        bucket: str = "minute",
        auto_refresh: float = 0.0,
        base_url: str | None = None,
        api_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url=base_url, api_key=api_key, **kwargs)
        self.model, self.tier, self.bucket = model, tier, bucket
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._generation = 0
        self.on_action("refresh", lambda _m: self.refresh())
        self.observe(lambda _c: self.refresh(), ["model", "tier", "bucket"])
        self.observe(self._auto, ["auto_refresh"])
        if self.connection is not None:
            self.refresh()
        self.auto_refresh = auto_refresh

    # -- data
    def _params(self) -> dict[str, str]:
        params = {"bucket": self.bucket}
        if self.model:
            params["model"] = self.model
        if self.tier:
            params["tier"] = self.tier
        return params

    def refresh(self) -> threading.Thread:
        """Fetch again; an answer to an older refresh (other filters) is dropped."""
        params = self._params()
        self._generation += 1
        generation = self._generation

        def fetch(api: GatewayApi) -> tuple[dict, dict, dict[str, list[dict]]]:
            series = api._request("GET", "/v1/usage/timeseries", params=params)
            filters = {k: v for k, v in params.items() if k != "bucket"}
            summary = api._request("GET", "/v1/usage", params={**filters, "group_by": ""})
            breakdown = {group: _breakdown(api, group, filters) for group in ("model", "user")}
            return series, summary, breakdown

        return self.run_in_background(fetch, lambda result: self._apply(generation, result))

    def _apply(self, generation: int, result: tuple[dict, dict, dict[str, list[dict]]]) -> None:
        if generation != self._generation:
            return
        series, summary, breakdown = result
        self.by_model = breakdown["model"]
        self.by_user = breakdown["user"]
        self.points = [{k: p.get(k) for k in SERIES} for p in series["data"]]
        self.models = series["models"]
        self.tiers = series["tiers"]
        self.totals = summary["total"]
        self.workspace = summary["workspace"]["name"]
        self.workspace_tier = summary["workspace"]["tier"]
        self.balance_usd = summary["balance_usd"]
        self.updated_at = time.time()

    def to_pandas(self):
        """The plotted series as a DataFrame indexed by bucket start (UTC)."""
        import pandas as pd

        frame = pd.DataFrame(self.points, columns=SERIES)
        frame["time"] = pd.to_datetime(frame["t"], unit="s", utc=True)
        return frame.drop(columns="t").set_index("time")

    def cost_by(self, group: str = "model"):
        """The cost breakdown (``"model"`` or ``"user"``) as a DataFrame, costliest first."""
        import pandas as pd

        rows = {"model": self.by_model, "user": self.by_user}[group]
        return pd.DataFrame(rows, columns=[group, *BREAKDOWN]).set_index(group)

    # -- live updates
    def _auto(self, _change: Any = None) -> None:
        self._stop.set()
        if self.auto_refresh <= 0:
            return
        stop = self._stop = threading.Event()
        interval = max(1.0, float(self.auto_refresh))

        def tick() -> None:
            while not stop.wait(interval):
                self.refresh().join()

        self._ticker = threading.Thread(target=tick, name="UsageDashboard-refresh", daemon=True)
        self._ticker.start()

    def close(self) -> None:
        self._stop.set()
        super().close()


def _breakdown(api: GatewayApi, group: Literal["model", "user"], filters: dict) -> list[dict]:
    """The usage of the filtered window grouped by ``group``, as plain rows, costliest first
    (requests with no user are ``NO_USER``)."""
    report = api.sdk(
        lambda c: c.usage.retrieve(
            group_by=group, model=filters.get("model"), tier=filters.get("tier")
        )
    )
    rows = []
    for row in report.data:
        values = row.model_dump()
        key = values.get(group)
        rows.append({group: key if key else NO_USER, **{k: values[k] for k in BREAKDOWN}})
    return sorted(rows, key=lambda r: (-r["cost_usd"], -r["total_tokens"], str(r[group])))
