"""``tf.TrainingMonitor("pirate-v1")``: a LoRA training job, live in a notebook cell.

Shows the loss curve (train loss at every step, validation loss per epoch), progress, ETA,
the final status, and a Cancel button (which goes through the Jupyter server's relay when
there is one, so it works while a cell waits on the job). Follows the job on a background
thread by polling ``/v1/adapters/{name}`` and its events; the Python object works without a
browser too (``monitor.train_loss``, ``monitor.status``, ``monitor.cancel()``,
``monitor.to_pandas()``).
"""

from __future__ import annotations

import threading
from typing import Any

import traitlets

from .api import GatewayApi
from .base import GatewayWidget, css, esm

FINISHED = ("succeeded", "failed", "cancelled")


class TrainingMonitor(GatewayWidget):
    _esm = esm("training_monitor.js")
    _css = css("training_monitor.css")

    adapter = traitlets.Unicode("").tag(sync=True)
    display_name = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    total_steps = traitlets.Int(0).tag(sync=True)
    epoch = traitlets.Int(0).tag(sync=True)
    epochs = traitlets.Int(0).tag(sync=True)
    eta_s = traitlets.Float(None, allow_none=True).tag(sync=True)
    train_loss = traitlets.List(traitlets.List()).tag(sync=True)  # [[step, loss], ...]
    validation_loss = traitlets.List(traitlets.List()).tag(sync=True)  # [[step, loss], ...]
    message = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        adapter: Any,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        poll_interval: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url=base_url, api_key=api_key, **kwargs)
        self.adapter = adapter if isinstance(adapter, str) else adapter.name
        self.poll_interval = poll_interval
        self._closed = threading.Event()
        self._last_seq = 0
        self.on_action("cancel", lambda _msg: self.cancel())
        if self.connection is not None:
            self.run_in_background(self._follow)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    # -- following the job
    def _follow(self, api: GatewayApi) -> None:
        while not self._closed.is_set():
            self._poll(api)
            if self.finished:
                return
            self._closed.wait(self.poll_interval)

    def _poll(self, api: GatewayApi) -> None:
        path = f"/v1/adapters/{self.adapter}"
        record = api._request("GET", path)
        events = api._request("GET", f"{path}/events", params={"after": self._last_seq})["data"]
        train = list(self.train_loss)
        validation = list(self.validation_loss)
        for event in events:
            self._last_seq = max(self._last_seq, event["seq"])
            if event["type"] == "loss" and event.get("loss") is not None:
                train.append([event["step"], event["loss"]])
            elif event["type"] == "epoch" and event.get("validation_loss") is not None:
                validation.append([event["step"], event["validation_loss"]])
            if event.get("message"):
                self.message = event["message"]
        progress = record.get("progress") or {}
        with self.hold_sync():
            self.display_name = record.get("display_name") or record["name"]
            self.step = progress.get("step", 0)
            self.total_steps = progress.get("total_steps", 0)
            self.epoch = progress.get("epoch", 0)
            self.epochs = progress.get("epochs", 0)
            self.eta_s = record.get("eta_s")
            self.train_loss = train
            self.validation_loss = validation
            if record.get("error"):
                self.message = record["error"]
            self.status = record["status"]

    # -- actions
    def cancel(self) -> threading.Thread | None:
        """Cancel the job (None when it already ended: a late click, e.g. one that waited in
        the kernel's queue while the page had cancelled it through the relay)."""
        if self.finished:
            return None
        path = f"/v1/adapters/{self.adapter}/cancel"
        return self.run_in_background(lambda api: api._request("POST", path))

    def to_pandas(self):
        """The loss curve: one row per step (validation loss on the steps that end an epoch)."""
        import pandas as pd

        df = pd.DataFrame(self.train_loss, columns=["step", "loss"])
        val = pd.DataFrame(self.validation_loss, columns=["step", "validation_loss"])
        return df.merge(val, on="step", how="left")

    def close(self) -> None:
        self._closed.set()
        super().close()
