"""``client.files``: OpenAI's ``/v1/files`` (batch inputs and fine-tuning data).

f = client.files.create(file="train.jsonl", purpose="fine-tune")   # checked line by line
client.files.list(purpose="fine-tune", limit=10)
client.files.content(f.id)                                        # the bytes uploaded
client.files.delete(f.id)                                         # 409 while a job uses it
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from typing_extensions import Unpack

from tokenfactory.wire import batches as wire

from .._request import APIRequest, FileSpec, RequestOptions
from .._resource import AsyncAPIResource, SyncAPIResource, get_request, post_request
from ..types import ResponseMeta

Order = Literal["asc", "desc"]


class FileObject(ResponseMeta, wire.FileObject):
    pass


class FileList(ResponseMeta, wire.FileList):
    data: list[FileObject]  # type: ignore[assignment]  # the SDK's own file type

    def __iter__(self) -> Iterator[FileObject]:  # type: ignore[override]  # iterate the files
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class FileDeleted(ResponseMeta, wire.FileDeleted):
    pass


def _create(file: FileSpec, purpose: str, options: RequestOptions) -> APIRequest[FileObject]:
    return post_request("/files", FileObject, {"purpose": purpose, **options}, {"file": file})


def _list(
    purpose: str | None,
    limit: int | None,
    after: str | None,
    order: Order | None,
    options: RequestOptions,
) -> APIRequest[FileList]:
    query = {"purpose": purpose, "limit": limit, "after": after, "order": order, **options}
    return get_request("/files", FileList, query)


class Files(SyncAPIResource):
    def create(
        self, *, file: FileSpec, purpose: str, **options: Unpack[RequestOptions]
    ) -> FileObject:
        """Upload a file: a path, bytes, an open binary file or ``(filename, content)``.
        With ``purpose="fine-tune"`` a bad line is a 400 naming it."""
        return self._client.request(_create(file, purpose, options))

    def list(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        after: str | None = None,
        order: Order | None = None,
        **options: Unpack[RequestOptions],
    ) -> FileList:
        """One page, newest first by default; pass ``after=page.last_id`` for the next."""
        return self._client.request(_list(purpose, limit, after, order, options))

    def retrieve(self, file_id: str, **options: Unpack[RequestOptions]) -> FileObject:
        return self._get(f"/files/{file_id}", cast_to=FileObject, params=options)

    def content(self, file_id: str, **options: Unpack[RequestOptions]) -> bytes:
        return self._get(f"/files/{file_id}/content", cast_to=bytes, params=options)

    def delete(self, file_id: str, **options: Unpack[RequestOptions]) -> FileDeleted:
        return self._delete(f"/files/{file_id}", cast_to=FileDeleted, options=options)


class AsyncFiles(AsyncAPIResource):
    async def create(
        self, *, file: FileSpec, purpose: str, **options: Unpack[RequestOptions]
    ) -> FileObject:
        return await self._client.request(_create(file, purpose, options))

    async def list(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        after: str | None = None,
        order: Order | None = None,
        **options: Unpack[RequestOptions],
    ) -> FileList:
        return await self._client.request(_list(purpose, limit, after, order, options))

    async def retrieve(self, file_id: str, **options: Unpack[RequestOptions]) -> FileObject:
        return await self._get(f"/files/{file_id}", cast_to=FileObject, params=options)

    async def content(self, file_id: str, **options: Unpack[RequestOptions]) -> bytes:
        return await self._get(f"/files/{file_id}/content", cast_to=bytes, params=options)

    async def delete(self, file_id: str, **options: Unpack[RequestOptions]) -> FileDeleted:
        return await self._delete(f"/files/{file_id}", cast_to=FileDeleted, options=options)
