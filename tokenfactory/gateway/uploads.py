"""Reading a multipart upload's ``file`` field (with a size cap) and its other form fields."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from ..errors import InvalidRequestError


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """Read at most ``max_bytes`` (+1, to tell a too-large file apart)."""
    chunks, size = [], 0
    while chunk := await upload.read(1024 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise InvalidRequestError(
                f"The file is larger than the limit of {max_bytes} bytes",
                param="file",
                code="file_too_large",
            )
    return b"".join(chunks)


async def upload_field(request: Request, max_bytes: int) -> tuple[bytes, str, dict[str, str]]:
    """The multipart ``file`` (bytes, filename) and the other form fields."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise InvalidRequestError(
            "Send the batch as multipart/form-data with a 'file' field (curl -F file=@...)",
            param="file",
        )
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InvalidRequestError("Missing required parameter: 'file'", param="file")
    data = await read_upload(upload, max_bytes)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return data, upload.filename or "batch.jsonl", fields
