"""The base of every resource (``client.chat``, ``client.models``, ...).

A resource method describes its call and hands it to the client, returning what the client
returns: the value for ``TokenFactory``, an awaitable for ``AsyncTokenFactory``. So one class
serves both clients. Per-call options (``extra_headers``, ``extra_query``, ``extra_body``,
``timeout``, ``max_retries``) travel in ``**params`` next to body fields; ``split_options``
tells them apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ._request import APIRequest, FileSpec, read_files, split_options

if TYPE_CHECKING:
    from ._client import BaseClient


class Resource:
    def __init__(self, client: BaseClient) -> None:
        self._client = client

    @property
    def _is_async(self) -> bool:
        return self._client._is_async

    def _get(
        self,
        path: str,
        *,
        cast_to: Any = dict,
        params: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Any:
        query, opts = split_options({**(params or {}), **options})
        return self._client.request(
            APIRequest("GET", path, params=query, cast_to=cast_to, options=opts)
        )

    def _delete(self, path: str, *, cast_to: Any = dict, **options: Any) -> Any:
        _, opts = split_options(options)
        return self._client.request(APIRequest("DELETE", path, cast_to=cast_to, options=opts))

    def _post(
        self,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        cast_to: Any = dict,
        files: Mapping[str, FileSpec] | None = None,
        **options: Any,
    ) -> Any:
        """POST JSON, or multipart form fields plus ``files`` when files are given."""
        fields, opts = split_options({**(body or {}), **options})
        uploads = read_files(files) if files is not None else None
        request = APIRequest(
            "POST", path, body=fields, files=uploads, cast_to=cast_to, options=opts
        )
        return self._client.request(request)

    def _stream(
        self, path: str, *, body: Mapping[str, Any], chunk_type: type[BaseModel], **options: Any
    ) -> Any:
        """POST with ``stream: true``; returns a Stream (AsyncStream) of ``chunk_type``."""
        fields, opts = split_options({**body, **options})
        fields["stream"] = True
        request = APIRequest("POST", path, body=fields, chunk_type=chunk_type, options=opts)
        return self._client.request(request)
