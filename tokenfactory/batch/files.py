"""Files of the batch feature on disk, under ``<data dir>/batch/``.

``files/<file id>.jsonl`` holds uploads (a batch's input); when a job ends its results are
written to ``<batch id>/output.jsonl`` (successes) and ``<batch id>/errors.jsonl`` (failures),
registered as files so OpenAI's ``output_file_id`` / ``error_file_id`` can be downloaded.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .repository import BatchRepository

CHUNK = 64 * 1024


def new_file_id() -> str:
    return f"file-{uuid.uuid4().hex[:24]}"


class ResultFiles:
    def __init__(self, root: Path, repo: BatchRepository) -> None:
        self.root = root
        self.repo = repo
        (root / "files").mkdir(parents=True, exist_ok=True)

    def save_upload(self, workspace: str, filename: str, purpose: str, data: bytes) -> dict:
        file_id = new_file_id()
        path = self.root / "files" / f"{file_id}.jsonl"
        _write_atomic(path, [data])
        return self.repo.add_file(file_id, workspace, filename, purpose, len(data), str(path))

    def write(self, job: dict[str, Any]) -> dict[str, str | None]:
        """Write a finished job's result files (again, if a crash interrupted the last try);
        returns their ids (``output_file_id``, ``error_file_id``) for the job's final update."""
        folder = self.root / job["id"]
        folder.mkdir(parents=True, exist_ok=True)
        ids: dict[str, str | None] = {}
        for ok, name, column in (
            (True, "output", "output_file_id"),
            (False, "errors", "error_file_id"),
        ):
            path = folder / f"{name}.jsonl"
            size = _write_atomic(path, self._lines(job["id"], ok))
            file_id = f"file-{job['id'].removeprefix('batch_')}-{name}"
            if size:
                self.repo.add_file(
                    file_id,
                    job["workspace_id"],
                    f"{job['id']}_{name}.jsonl",
                    "batch_output",
                    size,
                    str(path),
                )
            ids[column] = file_id if size else None
        return ids

    def _lines(self, batch_id: str, ok: bool) -> Iterator[bytes]:
        for _, result in self.repo.iter_results(batch_id, ok=ok):
            yield (json.dumps(result) + "\n").encode()


def stream_file(path: str | Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _write_atomic(path: Path, chunks) -> int:
    tmp = path.with_suffix(path.suffix + ".tmp")
    size = 0
    with open(tmp, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
            size += len(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return size
