"""``tf.BatchMonitor(batch_id)``: a batch job's live status, progress, throughput and results.

A background thread polls ``GET /v1/batch/{id}`` until the job ends, then loads the results
table (``to_pandas()`` keeps the full DataFrame). The cancel button sends ``DELETE``, from the
page through the Jupyter server's relay when there is one (so it works while a cell waits on
the job), else through the kernel. Every failure lands in ``error`` (shown in the widget);
nothing raises into JavaScript.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import traitlets

from .base import GatewayWidget, css, describe, esm

TERMINAL = ("completed", "failed", "cancelled", "expired")
TABLE_COLUMNS = ["custom_id", "status_code", "response", "error"]


class BatchMonitor(GatewayWidget):
    _esm = esm("batch_monitor.js")
    _css = css("batch_monitor.css")

    batch_id = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    sla = traitlets.Unicode("").tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    completed = traitlets.Int(0).tag(sync=True)
    failed = traitlets.Int(0).tag(sync=True)
    cancelled = traitlets.Int(0).tag(sync=True)  # lines a cancel left without a result
    missing = traitlets.Bool(False).tag(sync=True)  # no such batch (for this key): nothing to do
    throughput = traitlets.Float(0.0).tag(sync=True)  # lines per second
    eta_s = traitlets.Float(None, allow_none=True).tag(sync=True)
    done = traitlets.Bool(False).tag(sync=True)
    results = traitlets.List(traitlets.Dict()).tag(sync=True)  # the first ``max_rows`` rows
    results_total = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        batch_id: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        poll_interval: float = 1.0,
        max_rows: int = 50,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url=base_url, api_key=api_key, **kwargs)
        self.batch_id = batch_id
        self.poll_interval = poll_interval
        self.max_rows = max_rows
        self._frame: Any = None
        self._first: tuple[float, int] | None = None
        self._stop = threading.Event()
        self.on_action("cancel", lambda _m: self.cancel())
        self.on_action("refresh", lambda _m: self.refresh())
        self._poller: threading.Thread | None = None
        if self.connection is not None:
            self._poller = threading.Thread(target=self._poll, name="BatchMonitor", daemon=True)
            self._poller.start()

    # -- the SDK client, built from the widget's connection
    def _client(self) -> Any:
        from ..sdk import TokenFactory

        conn = self.connection
        if conn is None:
            raise RuntimeError(self.error or "Not connected to a gateway")
        if getattr(self, "_sdk", None) is None:
            self._sdk = TokenFactory(base_url=conn.base_url, api_key=conn.api_key, max_retries=1)
        return self._sdk

    # -- polling
    def _poll(self) -> None:
        from ..sdk import NotFoundError

        while not self._stop.is_set():
            try:
                self.refresh()
                if self.error.startswith("Polling failed"):
                    self.error = ""
            except NotFoundError as exc:
                self.missing = True  # an id that will not appear later: stop asking
                self.error = describe(exc)
                return
            except Exception as exc:
                self.error = f"Polling failed: {describe(exc)}"
            if self.done:
                self._load_results()
                return
            self._stop.wait(self.poll_interval)

    def refresh(self) -> None:
        job = self._client().batches.retrieve(self.batch_id)
        self._update(job)

    def _update(self, job: Any) -> None:
        if self.done and job.status not in TERMINAL:
            return  # a late reply (e.g. the cancel call's "cancelling") after the job ended
        finished = job.completed_requests + job.failed_requests
        now = time.monotonic()
        if self._first is None and job.status != "queued":
            self._first = (now, finished)
        if self._first is not None and now > self._first[0] and finished > self._first[1]:
            self.throughput = (finished - self._first[1]) / (now - self._first[0])
            remaining = job.total_requests - finished
            self.eta_s = remaining / self.throughput if remaining else 0.0
        self.sla = job.sla or ""
        self.total, self.completed, self.failed = (
            job.total_requests,
            job.completed_requests,
            job.failed_requests,
        )
        self.cancelled = job.total_requests - finished if job.status == "cancelled" else 0
        self.status = job.status
        self.done = job.status in TERMINAL

    def _load_results(self) -> None:
        try:
            frame = self._client().batches.to_pandas(self.batch_id)
        except Exception as exc:
            self.error = f"Could not load the results: {describe(exc)}"
            return
        self._frame = frame
        self.results_total = len(frame)
        head = frame[TABLE_COLUMNS].head(self.max_rows)
        self.results = [
            {k: (None if _missing(v) else _cell(v)) for k, v in row.items()}
            for row in head.to_dict("records")
        ]

    # -- actions
    def cancel(self) -> None:
        if self.missing:
            self.error = f"No batch '{self.batch_id}' to cancel"
            return
        if self.done:
            return  # a late click (it waited in the kernel's queue): nothing left to cancel

        def run(_api: Any) -> Any:
            job = self._client().batches.cancel(self.batch_id)
            self._update(job)

        self.run_in_background(run)

    def wait(self, timeout: float | None = 60.0) -> None:
        """Block until the job has ended and its results are loaded (or ``timeout``)."""
        super().wait(timeout)
        if self._poller is not None:
            self._poller.join(timeout)

    def to_pandas(self) -> Any:
        """The full results DataFrame once the job has ended (None before)."""
        return self._frame

    def close(self) -> None:
        self._stop.set()
        sdk = getattr(self, "_sdk", None)
        if sdk is not None:
            sdk.close()
        super().close()


def _missing(value: Any) -> bool:
    try:
        return value != value  # NaN
    except Exception:
        return False


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return f"[{len(value)} values]"
    if hasattr(value, "item"):
        return value.item()
    return value
