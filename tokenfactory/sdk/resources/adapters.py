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

from .._jsonl import TrainingData, training_jsonl
from .._polling import Bar, NoProgress, Poll, async_wait, wait
from .._request import APIRequest, RequestOptions
from .._resource import AsyncAPIResource, SyncAPIResource, delete_request, get_request, post_request
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


class AdapterCheckpointList(ResponseMeta, wire.AdapterCheckpointList):
    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([c.model_dump() for c in self.data])


AdapterRef = str | wire.Adapter  # an adapter's name, or the adapter itself


def _name(adapter: AdapterRef) -> str:
    return adapter if isinstance(adapter, str) else adapter.name


class AdapterParams(RequestOptions, total=False):
    """``tokenfactory.wire.adapters.AdapterCreate`` less ``name`` (unset: the API's defaults)."""

    display_name: str | None
    base_model: str | None
    epochs: int | None
    learning_rate: float | None
    rank: Literal[8, 16, 32, 64] | None
    alpha: float | None
    dropout: float | None
    batch_size: int | None
    max_tokens: int | None
    seed: int | None


class ImportParams(RequestOptions, total=False):
    """``tokenfactory.wire.adapters.AdapterImport`` less ``name`` and ``path``."""

    base_model: str | None
    display_name: str | None
    workspace: str | None  # an admin imports into this workspace (default: the key's own)


# Each call is built once here, and sent by the sync and the async class alike.
def _create(name: str, params: AdapterParams) -> APIRequest[Adapter]:
    return post_request("/adapters", Adapter, {"name": name, **params})


def _upload(
    adapter: AdapterRef, kind: str, data: TrainingData, options: RequestOptions
) -> APIRequest[Adapter]:
    files = {"file": (f"{kind}.jsonl", training_jsonl(data), "application/jsonl")}
    return post_request(f"/adapters/{_name(adapter)}/{kind}", Adapter, dict(options), files)


def _train(adapter: AdapterRef, resume: bool, options: RequestOptions) -> APIRequest[Adapter]:
    return post_request(f"/adapters/{_name(adapter)}/train", Adapter, {"resume": resume, **options})


def _cancel(adapter: AdapterRef, options: RequestOptions) -> APIRequest[Adapter]:
    return post_request(f"/adapters/{_name(adapter)}/cancel", Adapter, dict(options))


def _retrieve(adapter: AdapterRef, options: RequestOptions) -> APIRequest[Adapter]:
    return get_request(f"/adapters/{_name(adapter)}", Adapter, options)


def _list(options: RequestOptions) -> APIRequest[AdapterList]:
    return get_request("/adapters", AdapterList, options)


def _delete_adapter(adapter: AdapterRef, options: RequestOptions) -> APIRequest[DeletedAdapter]:
    return delete_request(f"/adapters/{_name(adapter)}", DeletedAdapter, options)


def _events(
    adapter: AdapterRef, after: int, options: RequestOptions
) -> APIRequest[AdapterEventList]:
    return get_request(
        f"/adapters/{_name(adapter)}/events", AdapterEventList, {"after": after, **options}
    )


def _checkpoints(adapter: AdapterRef, options: RequestOptions) -> APIRequest[AdapterCheckpointList]:
    return get_request(f"/adapters/{_name(adapter)}/checkpoints", AdapterCheckpointList, options)


def _promote(
    adapter: AdapterRef, checkpoint: str | int, options: RequestOptions
) -> APIRequest[Adapter]:
    body = {"checkpoint": str(checkpoint), **options}
    return post_request(f"/adapters/{_name(adapter)}/promote", Adapter, body)


def _import(name: str, path: str | os.PathLike[str], params: ImportParams) -> APIRequest[Adapter]:
    folder = str(Path(path).expanduser().resolve())
    return post_request("/adapters/import", Adapter, {"name": name, "path": folder, **params})


def _poll(
    adapter: AdapterRef, timeout: float | None, interval: float, progress: bool
) -> Poll[Adapter]:
    return Poll(
        finished=lambda a: a.status in FINISHED,
        describe=lambda a: f"adapter {a.name!r} still {a.status}",
        timeout=timeout,
        poll_interval=interval,
        progress=Bar(_name(adapter), "step", _training_progress) if progress else NoProgress(),
    )


class Adapters(SyncAPIResource):
    def create(self, name: str, **params: Unpack[AdapterParams]) -> Adapter:
        """Create an adapter (no training yet); unset parameters take the API's defaults."""
        return self._client.request(_create(name, params))

    def upload_training_data(
        self, adapter: AdapterRef, data: TrainingData, **options: Unpack[RequestOptions]
    ) -> Adapter:
        """Upload (replace) the training examples: a path, JSONL text, a list or a DataFrame."""
        return self._client.request(_upload(adapter, "training_data", data, options))

    def upload_validation_data(
        self, adapter: AdapterRef, data: TrainingData, **options: Unpack[RequestOptions]
    ) -> Adapter:
        return self._client.request(_upload(adapter, "validation_data", data, options))

    def train(
        self, adapter: AdapterRef, *, resume: bool = False, **options: Unpack[RequestOptions]
    ) -> Adapter:
        """Start training in the background (returns at once; follow it with ``wait``)."""
        return self._client.request(_train(adapter, resume, options))

    def cancel(self, adapter: AdapterRef, **options: Unpack[RequestOptions]) -> Adapter:
        return self._client.request(_cancel(adapter, options))

    def retrieve(self, adapter: AdapterRef, **options: Unpack[RequestOptions]) -> Adapter:
        return self._client.request(_retrieve(adapter, options))

    def list(self, **options: Unpack[RequestOptions]) -> AdapterList:
        return self._client.request(_list(options))

    def delete(self, adapter: AdapterRef, **options: Unpack[RequestOptions]) -> DeletedAdapter:
        return self._client.request(_delete_adapter(adapter, options))

    def events(
        self, adapter: AdapterRef, *, after: int = 0, **options: Unpack[RequestOptions]
    ) -> AdapterEventList:
        """Status changes, the loss at every step and the validation loss per epoch."""
        return self._client.request(_events(adapter, after, options))

    def checkpoints(
        self, adapter: AdapterRef, **options: Unpack[RequestOptions]
    ) -> AdapterCheckpointList:
        """The job's epoch checkpoints; each ``id`` (``name@epoch-N``) is a servable model."""
        return self._client.request(_checkpoints(adapter, options))

    def promote(
        self, adapter: AdapterRef, checkpoint: str | int, **options: Unpack[RequestOptions]
    ) -> Adapter:
        """Serve ``checkpoint`` (``"epoch-2"``, ``2`` or ``"name@epoch-2"``) under the
        adapter's own name from now on."""
        return self._client.request(_promote(adapter, checkpoint, options))

    def import_folder(
        self, name: str, path: str | os.PathLike[str], **params: Unpack[ImportParams]
    ) -> Adapter:
        """Serve a PEFT adapter folder trained elsewhere (a path on the gateway's machine, outside
        its data directory; an admin key only)."""
        return self._client.request(_import(name, path, params))

    def wait(
        self,
        adapter: AdapterRef,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        progress: bool = True,
    ) -> Adapter:
        """Block until training finishes (succeeded, failed or cancelled), with a progress bar."""
        poll = _poll(adapter, timeout, poll_interval, progress)
        return wait(poll, lambda: self.retrieve(adapter))


class AsyncAdapters(AsyncAPIResource):
    async def create(self, name: str, **params: Unpack[AdapterParams]) -> Adapter:
        return await self._client.request(_create(name, params))

    async def upload_training_data(
        self, adapter: AdapterRef, data: TrainingData, **options: Unpack[RequestOptions]
    ) -> Adapter:
        return await self._client.request(_upload(adapter, "training_data", data, options))

    async def upload_validation_data(
        self, adapter: AdapterRef, data: TrainingData, **options: Unpack[RequestOptions]
    ) -> Adapter:
        return await self._client.request(_upload(adapter, "validation_data", data, options))

    async def train(
        self, adapter: AdapterRef, *, resume: bool = False, **options: Unpack[RequestOptions]
    ) -> Adapter:
        return await self._client.request(_train(adapter, resume, options))

    async def cancel(self, adapter: AdapterRef, **options: Unpack[RequestOptions]) -> Adapter:
        return await self._client.request(_cancel(adapter, options))

    async def retrieve(self, adapter: AdapterRef, **options: Unpack[RequestOptions]) -> Adapter:
        return await self._client.request(_retrieve(adapter, options))

    async def list(self, **options: Unpack[RequestOptions]) -> AdapterList:
        return await self._client.request(_list(options))

    async def delete(
        self, adapter: AdapterRef, **options: Unpack[RequestOptions]
    ) -> DeletedAdapter:
        return await self._client.request(_delete_adapter(adapter, options))

    async def events(
        self, adapter: AdapterRef, *, after: int = 0, **options: Unpack[RequestOptions]
    ) -> AdapterEventList:
        return await self._client.request(_events(adapter, after, options))

    async def checkpoints(
        self, adapter: AdapterRef, **options: Unpack[RequestOptions]
    ) -> AdapterCheckpointList:
        return await self._client.request(_checkpoints(adapter, options))

    async def promote(
        self, adapter: AdapterRef, checkpoint: str | int, **options: Unpack[RequestOptions]
    ) -> Adapter:
        return await self._client.request(_promote(adapter, checkpoint, options))

    async def import_folder(
        self, name: str, path: str | os.PathLike[str], **params: Unpack[ImportParams]
    ) -> Adapter:
        return await self._client.request(_import(name, path, params))

    async def wait(
        self,
        adapter: AdapterRef,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        progress: bool = False,
    ) -> Adapter:
        poll = _poll(adapter, timeout, poll_interval, progress)
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
