"""``client.adapters``: LoRA fine-tuning, from a DataFrame of examples to a served adapter.

    adapter = client.adapters.create("pirate-v1", epochs=3)
    client.adapters.upload_training_data(adapter, df)
    client.adapters.train(adapter)
    client.adapters.wait(adapter)            # progress bar; returns the finished adapter
    client.chat.completions.create(model="pirate-v1", messages=[...])

Training data is chat JSONL (one ``{"messages": [...]}`` per line); ``upload_training_data``
also takes a path, a list of conversations, or a DataFrame with a ``messages`` column or
``prompt``/``completion`` (optionally ``system``) columns.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from typing_extensions import Unpack

from tokenfactory.wire import adapters as wire

from .._request import RequestOptions
from .._resource import Resource
from ..types import ResponseMeta

FINISHED = ("succeeded", "failed", "cancelled")
PROMPT_COLUMNS = (("prompt", "completion"), ("user", "assistant"), ("question", "answer"))


class Adapter(ResponseMeta, wire.Adapter):
    def _repr_markdown_(self) -> str:
        p = self.progress
        loss = f"{self.train_loss:.3f}" if self.train_loss is not None else "–"
        val = f"{self.validation_loss:.3f}" if self.validation_loss is not None else "–"
        return (
            f"**{self.display_name or self.name}** (`{self.name}` on `{self.base_model}`):"
            f" {self.status}, step {p.step}/{p.total_steps}, epoch {p.epoch}/{p.epochs},"
            f" loss {loss}, validation loss {val}" + (f"  \n{self.error}" if self.error else "")
        )


class AdapterList(ResponseMeta, wire.AdapterList):
    data: list[Adapter]

    def _repr_markdown_(self) -> str:
        lines = ["| name | base model | status | loss |", "|---|---|---|---|"]
        for a in self.data:
            loss = f"{a.train_loss:.3f}" if a.train_loss is not None else ""
            lines.append(f"| {a.name} | {a.base_model} | {a.status} | {loss} |")
        return "\n".join(lines)


class AdapterEventList(ResponseMeta, wire.AdapterEventList):
    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame([e.model_dump() for e in self.data])


class DeletedAdapter(ResponseMeta, wire.DeletedAdapter):
    pass


def _name(adapter: str | wire.Adapter) -> str:
    return adapter if isinstance(adapter, str) else adapter.name


def _conversation(item: Any) -> dict[str, Any]:
    if isinstance(item, Mapping) and "messages" in item:
        return {"messages": list(item["messages"])}
    if isinstance(item, Mapping):
        for user, assistant in PROMPT_COLUMNS:
            if user in item and assistant in item:
                messages = []
                if item.get("system"):
                    messages.append({"role": "system", "content": item["system"]})
                messages.append({"role": "user", "content": item[user]})
                messages.append({"role": "assistant", "content": item[assistant]})
                return {"messages": messages}
        raise ValueError(
            f"each example needs 'messages' or prompt/completion fields; got keys {sorted(item)}"
        )
    if isinstance(item, (list, tuple)):
        return {"messages": list(item)}
    raise TypeError(f"cannot turn {type(item).__name__} into a training example")


def to_jsonl_bytes(data: Any) -> bytes:
    """Training data in any of the accepted forms → JSONL bytes."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, os.PathLike) or (
        isinstance(data, str) and "\n" not in data and not data.lstrip().startswith("{")
    ):
        return Path(data).read_bytes()
    if isinstance(data, str):
        return data.encode()
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        data = data.to_dict("records")
    if isinstance(data, Iterable):
        lines = [json.dumps(_conversation(item), ensure_ascii=False) for item in data]
        return ("\n".join(lines) + "\n").encode()
    raise TypeError(f"unsupported training data: {type(data).__name__}")


class Adapters(Resource):
    def create(
        self,
        name: str,
        *,
        display_name: str | None = None,
        base_model: str | None = None,
        epochs: int | None = None,
        learning_rate: float | None = None,
        rank: int | None = None,
        alpha: float | None = None,
        dropout: float | None = None,
        batch_size: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> Any:
        """Create an adapter (no training yet); unset parameters take the API's defaults."""
        body = {
            "name": name,
            "display_name": display_name,
            "base_model": base_model,
            "epochs": epochs,
            "learning_rate": learning_rate,
            "rank": rank,
            "alpha": alpha,
            "dropout": dropout,
            "batch_size": batch_size,
        }
        return self._post("/adapters", body=body, cast_to=Adapter, **options)

    def upload_training_data(
        self, adapter: str | wire.Adapter, data: Any, **options: Unpack[RequestOptions]
    ) -> Any:
        """Upload (replace) the training examples: a path, JSONL text, a list or a DataFrame."""
        return self._upload(adapter, "training_data", data, options)

    def upload_validation_data(
        self, adapter: str | wire.Adapter, data: Any, **options: Unpack[RequestOptions]
    ) -> Any:
        return self._upload(adapter, "validation_data", data, options)

    def _upload(self, adapter: Any, kind: str, data: Any, options: Any) -> Any:
        files = {"file": (f"{kind}.jsonl", to_jsonl_bytes(data), "application/jsonl")}
        path = f"/adapters/{_name(adapter)}/{kind}"
        return self._post(path, files=files, cast_to=Adapter, **options)

    def train(
        self,
        adapter: str | wire.Adapter,
        *,
        resume: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Any:
        """Start training in the background (returns at once; follow it with ``wait``)."""
        body = {"resume": resume}
        return self._post(
            f"/adapters/{_name(adapter)}/train", body=body, cast_to=Adapter, **options
        )

    def cancel(self, adapter: str | wire.Adapter, **options: Unpack[RequestOptions]) -> Any:
        return self._post(f"/adapters/{_name(adapter)}/cancel", cast_to=Adapter, **options)

    def retrieve(self, adapter: str | wire.Adapter, **options: Unpack[RequestOptions]) -> Any:
        return self._get(f"/adapters/{_name(adapter)}", cast_to=Adapter, **options)

    def list(self, **options: Unpack[RequestOptions]) -> Any:
        return self._get("/adapters", cast_to=AdapterList, **options)

    def delete(self, adapter: str | wire.Adapter, **options: Unpack[RequestOptions]) -> Any:
        return self._delete(f"/adapters/{_name(adapter)}", cast_to=DeletedAdapter, **options)

    def events(
        self, adapter: str | wire.Adapter, *, after: int = 0, **options: Unpack[RequestOptions]
    ) -> Any:
        """Status changes, the loss at every step and the validation loss per epoch."""
        path = f"/adapters/{_name(adapter)}/events"
        return self._get(path, params={"after": after}, cast_to=AdapterEventList, **options)

    def import_folder(
        self,
        name: str,
        path: str | os.PathLike[str],
        *,
        base_model: str | None = None,
        display_name: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Any:
        """Serve a PEFT adapter folder trained elsewhere (a path on the gateway's machine)."""
        body = {
            "name": name,
            "path": str(Path(path).expanduser().resolve()),
            "base_model": base_model,
            "display_name": display_name,
        }
        return self._post("/adapters/import", body=body, cast_to=Adapter, **options)

    def wait(
        self,
        adapter: str | wire.Adapter,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        progress: bool = True,
    ) -> Adapter:
        """Block until training finishes (succeeded, failed or cancelled), with a progress bar."""
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _ProgressBar(_name(adapter), progress)
        try:
            while True:
                current = self.retrieve(adapter)
                bar.update(current)
                if current.status in FINISHED:
                    return current
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(
                        f"adapter {current.name!r} still {current.status} after {timeout} s"
                    )
                time.sleep(poll_interval)
        finally:
            bar.close()


class AsyncAdapters(Adapters):
    async def wait(  # type: ignore[override]
        self,
        adapter: str | wire.Adapter,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        progress: bool = False,
    ) -> Adapter:
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _ProgressBar(_name(adapter), progress)
        try:
            while True:
                current = await self.retrieve(adapter)
                bar.update(current)
                if current.status in FINISHED:
                    return current
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(
                        f"adapter {current.name!r} still {current.status} after {timeout} s"
                    )
                await asyncio.sleep(poll_interval)
        finally:
            bar.close()


class _ProgressBar:
    """A tqdm bar over training steps, with the loss in its postfix."""

    def __init__(self, name: str, enabled: bool) -> None:
        self._bar = None
        self._name = name
        self._enabled = enabled

    def update(self, adapter: wire.Adapter) -> None:
        if not self._enabled:
            return
        p = adapter.progress
        if self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=p.total_steps or None, desc=self._name, unit="step")
        bar = self._bar
        if p.total_steps and bar.total != p.total_steps:
            bar.total = p.total_steps
        bar.n = p.step
        postfix = {"status": adapter.status, "epoch": f"{p.epoch}/{p.epochs}"}
        if adapter.train_loss is not None:
            postfix["loss"] = f"{adapter.train_loss:.3f}"
        if adapter.validation_loss is not None:
            postfix["val"] = f"{adapter.validation_loss:.3f}"
        bar.set_postfix(postfix, refresh=False)
        bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
