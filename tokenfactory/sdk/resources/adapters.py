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

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from typing_extensions import Unpack

from tokenfactory.wire import adapters as wire

from .._jsonl import training_jsonl
from .._polling import Bar, NoProgress, Poll, async_wait, wait
from .._request import RequestOptions
from .._resource import Resource
from ..types import ResponseMeta

if TYPE_CHECKING:
    import pandas as pd

FINISHED = ("succeeded", "failed", "cancelled")


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


class AdapterList(ResponseMeta):
    object: Literal["list"] = "list"
    data: list[Adapter]

    def _repr_markdown_(self) -> str:
        lines = ["| name | base model | status | loss |", "|---|---|---|---|"]
        for a in self.data:
            loss = f"{a.train_loss:.3f}" if a.train_loss is not None else ""
            lines.append(f"| {a.name} | {a.base_model} | {a.status} | {loss} |")
        return "\n".join(lines)


class AdapterEventList(ResponseMeta, wire.AdapterEventList):
    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([e.model_dump() for e in self.data])


class DeletedAdapter(ResponseMeta, wire.DeletedAdapter):
    pass


def _name(adapter: str | wire.Adapter) -> str:
    return adapter if isinstance(adapter, str) else adapter.name


class _Adapters(Resource):
    """Every call but ``wait``, which polls: ``Adapters`` and ``AsyncAdapters`` add it."""

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
        files = {"file": (f"{kind}.jsonl", training_jsonl(data), "application/jsonl")}
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

    def checkpoints(self, adapter: str | wire.Adapter, **options: Unpack[RequestOptions]) -> Any:
        """The job's epoch checkpoints; each ``id`` (``name@epoch-N``) is a servable model."""
        return self._get(f"/adapters/{_name(adapter)}/checkpoints", cast_to=dict, **options)

    def promote(
        self,
        adapter: str | wire.Adapter,
        checkpoint: str | int,
        **options: Unpack[RequestOptions],
    ) -> Any:
        """Serve ``checkpoint`` (``"epoch-2"``, ``2`` or ``"name@epoch-2"``) under the
        adapter's own name from now on."""
        body = {"checkpoint": str(checkpoint)}
        path = f"/adapters/{_name(adapter)}/promote"
        return self._post(path, body=body, cast_to=Adapter, **options)

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

    def _poll(
        self, adapter: str | wire.Adapter, timeout: float | None, interval: float, progress: bool
    ) -> Poll[Adapter]:
        return Poll(
            finished=lambda a: a.status in FINISHED,
            describe=lambda a: f"adapter {a.name!r} still {a.status}",
            timeout=timeout,
            poll_interval=interval,
            progress=Bar(_name(adapter), "step", _training_progress) if progress else NoProgress(),
        )


class Adapters(_Adapters):
    def wait(
        self,
        adapter: str | wire.Adapter,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        progress: bool = True,
    ) -> Adapter:
        """Block until training finishes (succeeded, failed or cancelled), with a progress bar."""
        poll = self._poll(adapter, timeout, poll_interval, progress)
        return wait(poll, lambda: self.retrieve(adapter))


class AsyncAdapters(_Adapters):
    async def wait(
        self,
        adapter: str | wire.Adapter,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        progress: bool = False,
    ) -> Adapter:
        poll = self._poll(adapter, timeout, poll_interval, progress)
        return await async_wait(poll, lambda: self.retrieve(adapter))


def _training_progress(adapter: wire.Adapter) -> tuple[int, int, dict[str, Any]]:
    """Steps done, steps in all, and the status, epoch and losses for the bar's postfix."""
    p = adapter.progress
    postfix = {"status": adapter.status, "epoch": f"{p.epoch}/{p.epochs}"}
    if adapter.train_loss is not None:
        postfix["loss"] = f"{adapter.train_loss:.3f}"
    if adapter.validation_loss is not None:
        postfix["val"] = f"{adapter.validation_loss:.3f}"
    return p.step, p.total_steps, postfix
