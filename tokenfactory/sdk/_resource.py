"""The bases of every resource (``client.chat``, ``client.models``, ...): one for the
synchronous client, one for the async one, as in openai-python.

A resource method describes its call (path, body, the model to parse the answer into) and hands
it to its client. Per-call options (``extra_headers``, ``extra_query``, ``extra_body``,
``timeout``, ``max_retries``) travel in the same keyword arguments as body fields;
``split_options`` tells them apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._request import APIRequest, FileSpec, read_files, split_options

if TYPE_CHECKING:
    from ._client import AsyncTokenFactory, TokenFactory
    from ._streaming import AsyncStream, Stream

T = TypeVar("T")


def get_request(path: str, cast_to: type[T], params: Mapping[str, Any] | None) -> APIRequest[T]:
    query, options = split_options(params or {})
    return APIRequest("GET", path, cast_to, params=query, options=options)


def delete_request(path: str, cast_to: type[T], options: Mapping[str, Any]) -> APIRequest[T]:
    _, opts = split_options(options)
    return APIRequest("DELETE", path, cast_to, options=opts)


def post_request(
    path: str,
    cast_to: type[T],
    body: Mapping[str, Any] | None,
    files: Mapping[str, FileSpec] | None = None,
    *,
    stream: bool = False,
) -> APIRequest[T]:
    """POST JSON, or multipart form fields plus ``files`` when files are given."""
    fields, options = split_options(body or {})
    if stream:
        fields["stream"] = True
    uploads = read_files(files) if files is not None else None
    return APIRequest(
        "POST", path, cast_to, body=fields, files=uploads, stream=stream, options=options
    )


class SyncAPIResource:
    def __init__(self, client: TokenFactory) -> None:
        self._client = client

    def _get(self, path: str, *, cast_to: type[T], params: Mapping[str, Any] | None = None) -> T:
        """GET; ``params`` holds query parameters and per-call options alike."""
        return self._client.request(get_request(path, cast_to, params))

    def _delete(self, path: str, *, cast_to: type[T], options: Mapping[str, Any]) -> T:
        return self._client.request(delete_request(path, cast_to, options))

    def _post(
        self,
        path: str,
        *,
        cast_to: type[T],
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, FileSpec] | None = None,
    ) -> T:
        return self._client.request(post_request(path, cast_to, body, files))

    def _stream(self, path: str, *, chunk_type: type[T], body: Mapping[str, Any]) -> Stream[T]:
        """POST with ``stream: true``: a Stream of ``chunk_type``."""
        return self._client.request_stream(post_request(path, chunk_type, body, stream=True))


class AsyncAPIResource:
    def __init__(self, client: AsyncTokenFactory) -> None:
        self._client = client

    async def _get(
        self, path: str, *, cast_to: type[T], params: Mapping[str, Any] | None = None
    ) -> T:
        return await self._client.request(get_request(path, cast_to, params))

    async def _delete(self, path: str, *, cast_to: type[T], options: Mapping[str, Any]) -> T:
        return await self._client.request(delete_request(path, cast_to, options))

    async def _post(
        self,
        path: str,
        *,
        cast_to: type[T],
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, FileSpec] | None = None,
    ) -> T:
        return await self._client.request(post_request(path, cast_to, body, files))

    async def _stream(
        self, path: str, *, chunk_type: type[T], body: Mapping[str, Any]
    ) -> AsyncStream[T]:
        return await self._client.request_stream(post_request(path, chunk_type, body, stream=True))
