"""``client.usage``: the key's own workspace's usage and cost (``/v1/usage``).

    report = client.usage.retrieve(group_by=["model", "user"])
    report.to_pandas()              # one row per (model, user): requests, tokens, cost_usd
    report.monthly_cap              # tokens, used, remaining, resets_at (None: no cap)
    client.usage.timeseries(bucket="minute").to_pandas()

An admin reads any workspace's with ``client.admin.workspaces.usage(name, ...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from typing_extensions import Unpack

from tokenfactory.wire import usage as wire

from .._request import APIRequest, RequestOptions
from .._resource import AsyncAPIResource, SyncAPIResource, get_request
from ..types import ResponseMeta

if TYPE_CHECKING:
    import pandas as pd

Group = Literal["day", "model", "tier", "endpoint", "user"]
Bucket = Literal["minute", "hour", "day"]
Time = str | int | float  # YYYY-MM-DD (UTC), an ISO time or Unix seconds


class UsageReport(ResponseMeta, wire.UsageSummary):
    """Sums per group (``data``), the total, the wallet balance and the monthly cap."""

    def to_pandas(self) -> pd.DataFrame:
        """One row per group: the group keys (model, user, ...) first, then the sums."""
        import pandas as pd

        rows = [row.model_dump() for row in self.data]
        frame = pd.DataFrame(rows)
        if frame.empty:
            return pd.DataFrame(columns=[*self.group_by, *wire.UsageSums.model_fields])
        keys = [g for g in self.group_by if g in frame.columns]
        return frame[keys + [c for c in frame.columns if c not in keys]]

    def _repr_markdown_(self) -> str:
        t = self.total
        cap = self.monthly_cap
        parts = [
            f"**{self.workspace.name}** ({self.workspace.tier}): {t.requests} requests,",
            f"{t.total_tokens} tokens, ${t.cost_usd:.6f}",
        ]
        if self.balance_usd is not None:
            parts.append(f"· wallet ${self.balance_usd:.6f}")
        if cap is not None:
            parts.append(f"· monthly cap {cap.used}/{cap.tokens} tokens")
        return " ".join(parts)


class UsageTimeseries(ResponseMeta, wire.UsageTimeseries):
    def to_pandas(self) -> pd.DataFrame:
        """One row per bucket, indexed by its start time (UTC)."""
        import pandas as pd

        frame = pd.DataFrame([p.model_dump() for p in self.data])
        if frame.empty:
            return frame
        frame["t"] = pd.to_datetime(frame["t"], unit="s", utc=True)
        return frame.set_index("t")


def filters_query(
    start: Time | None, end: Time | None, model: str | None, tier: str | None
) -> dict[str, Any]:
    return {
        "start": None if start is None else str(start),
        "end": None if end is None else str(end),
        "model": model,
        "tier": tier,
    }


def group_query(group_by: Group | Sequence[Group] | None) -> str | None:
    if group_by is None or isinstance(group_by, str):
        return group_by
    return ",".join(group_by)


def summary_request(
    path: str,
    group_by: Group | Sequence[Group] | None,
    filters: dict[str, Any],
    user: str | None,
    options: RequestOptions,
) -> APIRequest[UsageReport]:
    query = {**filters, "group_by": group_query(group_by), "user": user, **options}
    return get_request(path, UsageReport, query)


def _timeseries(
    bucket: Bucket, filters: dict[str, Any], options: RequestOptions
) -> APIRequest[UsageTimeseries]:
    return get_request(
        "/usage/timeseries", UsageTimeseries, {**filters, "bucket": bucket, **options}
    )


class Usage(SyncAPIResource):
    def retrieve(
        self,
        *,
        group_by: Group | Sequence[Group] | None = None,
        start: Time | None = None,
        end: Time | None = None,
        model: str | None = None,
        tier: str | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> UsageReport:
        """Sums by ``group_by`` (default day, model, tier) over the last 30 days unless
        ``start``/``end`` say otherwise; ``user`` is the ``user`` field / ``X-TF-User``."""
        filters = filters_query(start, end, model, tier)
        return self._client.request(summary_request("/usage", group_by, filters, user, options))

    def timeseries(
        self,
        *,
        bucket: Bucket = "hour",
        start: Time | None = None,
        end: Time | None = None,
        model: str | None = None,
        tier: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> UsageTimeseries:
        """Requests, tokens, cost and latency percentiles per time bucket."""
        return self._client.request(
            _timeseries(bucket, filters_query(start, end, model, tier), options)
        )


class AsyncUsage(AsyncAPIResource):
    async def retrieve(
        self,
        *,
        group_by: Group | Sequence[Group] | None = None,
        start: Time | None = None,
        end: Time | None = None,
        model: str | None = None,
        tier: str | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> UsageReport:
        filters = filters_query(start, end, model, tier)
        request = summary_request("/usage", group_by, filters, user, options)
        return await self._client.request(request)

    async def timeseries(
        self,
        *,
        bucket: Bucket = "hour",
        start: Time | None = None,
        end: Time | None = None,
        model: str | None = None,
        tier: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> UsageTimeseries:
        filters = filters_query(start, end, model, tier)
        return await self._client.request(_timeseries(bucket, filters, options))


MonthlyCap = wire.MonthlyCap
__all__ = ["AsyncUsage", "MonthlyCap", "Usage", "UsageReport", "UsageTimeseries"]
