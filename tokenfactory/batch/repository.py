"""Batch jobs, their lines and uploaded files in the shared SQLite store.

A line is ``pending`` until its result is committed, in the same transaction that bumps the
job's counters and writes the line's usage; ``finish_line`` only updates a line that is still
pending, so a result (and its bill) can be committed at most once however the runner was
interrupted.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

from ..errors import ResourceNotFoundError
from ..store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_files (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    purpose TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    path TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_files_ws ON batch_files(workspace_id);
CREATE TABLE IF NOT EXISTS batch_jobs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    key_id TEXT,
    sla TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    status TEXT NOT NULL,
    total INTEGER NOT NULL,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    input_file_id TEXT,
    output_file_id TEXT,
    error_file_id TEXT,
    metadata TEXT,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    cancelling_at REAL
);
CREATE INDEX IF NOT EXISTS batch_jobs_ws ON batch_jobs(workspace_id);
CREATE INDEX IF NOT EXISTS batch_jobs_status ON batch_jobs(status);
CREATE TABLE IF NOT EXISTS batch_lines (
    batch_id TEXT NOT NULL REFERENCES batch_jobs(id),
    line_no INTEGER NOT NULL,
    custom_id TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    ok INTEGER,
    result TEXT,
    finished_at REAL,
    PRIMARY KEY (batch_id, line_no),
    UNIQUE (batch_id, custom_id)
);
CREATE INDEX IF NOT EXISTS batch_lines_pending ON batch_lines(batch_id, state, line_no);
"""

ACTIVE = ("queued", "in_progress", "cancelling")
TERMINAL = ("completed", "failed", "cancelled", "expired")
SLA_RANK = {"1h": 0, "24h": 1}


class BatchRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure_schema("batch", SCHEMA)

    # -- files ------------------------------------------------------------------------------
    def add_file(
        self, file_id: str, workspace: str, filename: str, purpose: str, size: int, path: str
    ) -> dict[str, Any]:
        self.store.execute(
            "INSERT OR REPLACE INTO batch_files VALUES (?, ?, ?, ?, ?, ?, ?)",
            (file_id, workspace, filename, purpose, size, path, time.time()),
        )
        return self.file(file_id, workspace)

    def file(self, file_id: str, workspace: str) -> dict[str, Any]:
        row = self.store.one(
            "SELECT * FROM batch_files WHERE id = ? AND workspace_id = ?", (file_id, workspace)
        )
        if row is None:
            raise ResourceNotFoundError(f"No file found with id '{file_id}'", code="file_not_found")
        return row

    def files(
        self,
        workspace: str,
        purpose: str | None = None,
        *,
        limit: int | None = None,
        after: str | None = None,
        order: str = "desc",
    ) -> list[dict[str, Any]]:
        """A workspace's files, newest first (``order="asc"``: oldest first); ``after`` is the
        id of the last file of the previous page."""
        newest_first = order != "asc"
        sql = "SELECT * FROM batch_files WHERE workspace_id = ?"
        params: tuple = (workspace,)
        if purpose:
            sql += " AND purpose = ?"
            params += (purpose,)
        if after:
            cursor = self.store.one(
                "SELECT rowid FROM batch_files WHERE id = ? AND workspace_id = ?",
                (after, workspace),
            )
            if cursor is None:
                raise ResourceNotFoundError(
                    f"No file found with id '{after}'", code="file_not_found"
                )
            sql += " AND rowid < ?" if newest_first else " AND rowid > ?"
            params += (cursor["rowid"],)
        sql += " ORDER BY rowid DESC" if newest_first else " ORDER BY rowid ASC"
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        return self.store.all(sql, params)

    def jobs_using_file(self, file_id: str, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
        marks = ", ".join("?" for _ in statuses)
        return self.store.all(
            f"SELECT id, status FROM batch_jobs WHERE input_file_id = ? AND status IN ({marks})",
            (file_id, *statuses),
        )

    def delete_file(self, file_id: str, workspace: str) -> None:
        self.store.execute(
            "DELETE FROM batch_files WHERE id = ? AND workspace_id = ?", (file_id, workspace)
        )

    # -- jobs -------------------------------------------------------------------------------
    def create_job(
        self,
        job: dict[str, Any],
        lines: list[tuple[int, str, str, dict]],
    ) -> dict[str, Any]:
        """Insert a job and all its lines in one transaction."""
        columns = ", ".join(job)
        marks = ", ".join("?" for _ in job)
        with self.store.transaction() as conn:
            conn.execute(
                f"INSERT INTO batch_jobs ({columns}) VALUES ({marks})", tuple(job.values())
            )
            conn.executemany(
                "INSERT INTO batch_lines (batch_id, line_no, custom_id, url, body) "
                "VALUES (?, ?, ?, ?, ?)",
                [(job["id"], n, cid, url, json.dumps(body)) for n, cid, url, body in lines],
            )
        return self.job(job["id"])

    def job(self, batch_id: str, workspace: str | None = None) -> dict[str, Any]:
        if workspace is None:
            row = self.store.one("SELECT * FROM batch_jobs WHERE id = ?", (batch_id,))
        else:
            row = self.store.one(
                "SELECT * FROM batch_jobs WHERE id = ? AND workspace_id = ?", (batch_id, workspace)
            )
        if row is None:
            raise ResourceNotFoundError(
                f"No batch found with id '{batch_id}'", code="batch_not_found"
            )
        return row

    def jobs(self, workspace: str, limit: int = 20, after: str | None = None) -> list[dict]:
        """Newest first; ``after`` is the id of the last job of the previous page."""
        if after:
            cursor = self.store.one(
                "SELECT rowid FROM batch_jobs WHERE id = ? AND workspace_id = ?", (after, workspace)
            )
            if cursor is None:
                raise ResourceNotFoundError(
                    f"No batch found with id '{after}'", code="batch_not_found"
                )
            return self.store.all(
                "SELECT * FROM batch_jobs WHERE workspace_id = ? AND rowid < ? "
                "ORDER BY rowid DESC LIMIT ?",
                (workspace, cursor["rowid"], limit),
            )
        return self.store.all(
            "SELECT * FROM batch_jobs WHERE workspace_id = ? ORDER BY rowid DESC LIMIT ?",
            (workspace, limit),
        )

    def active_jobs(self) -> list[dict[str, Any]]:
        """Jobs the runner has work on: 1h before 24h, then oldest first."""
        rows = self.store.all(
            "SELECT * FROM batch_jobs WHERE status IN (?, ?, ?) ORDER BY rowid", ACTIVE
        )
        return sorted(rows, key=lambda r: SLA_RANK.get(r["sla"], 9))

    def unfinalized_jobs(self) -> list[dict[str, Any]]:
        """Terminal jobs whose result files were not written (a crash while finishing)."""
        return self.store.all(
            "SELECT * FROM batch_jobs WHERE status IN (?, ?, ?, ?) AND finished_at IS NULL",
            TERMINAL,
        )

    def set_status(
        self, batch_id: str, status: str, expect: tuple[str, ...] = (), **fields: Any
    ) -> bool:
        """Set a job's status (only from one of ``expect`` when given); True if it changed."""
        sets = ", ".join(["status = ?", *(f"{k} = ?" for k in fields)])
        sql = f"UPDATE batch_jobs SET {sets} WHERE id = ?"
        if expect:
            sql += f" AND status IN ({', '.join('?' for _ in expect)})"
        cur = self.store.execute(sql, (status, *fields.values(), batch_id, *expect))
        return cur.rowcount == 1

    def set_fields(self, batch_id: str, **fields: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.store.execute(
            f"UPDATE batch_jobs SET {sets} WHERE id = ?", (*fields.values(), batch_id)
        )

    def request_cancel(self, batch_id: str, workspace: str) -> dict[str, Any]:
        job = self.job(batch_id, workspace)
        if job["status"] in ("queued", "in_progress"):
            self.store.execute(
                "UPDATE batch_jobs SET status = 'cancelling', cancelling_at = ? "
                "WHERE id = ? AND status IN ('queued', 'in_progress')",
                (time.time(), batch_id),
            )
        return self.job(batch_id, workspace)

    # -- lines ------------------------------------------------------------------------------
    def pending_lines(self, batch_id: str, limit: int, skip: set[int]) -> list[dict[str, Any]]:
        rows = self.store.all(
            "SELECT line_no, custom_id, url, body FROM batch_lines "
            "WHERE batch_id = ? AND state = 'pending' ORDER BY line_no LIMIT ?",
            (batch_id, limit + len(skip)),
        )
        return [r for r in rows if r["line_no"] not in skip][:limit]

    def count_pending(self, batch_id: str) -> int:
        row = self.store.one(
            "SELECT COUNT(*) AS n FROM batch_lines WHERE batch_id = ? AND state = 'pending'",
            (batch_id,),
        )
        return int(row["n"]) if row else 0

    def finish_line(
        self, conn: sqlite3.Connection, batch_id: str, line_no: int, ok: bool, result: dict
    ) -> bool:
        """Write one line's result (once) in the caller's transaction; False when it already
        had one."""
        cur = conn.execute(
            "UPDATE batch_lines SET state = 'done', ok = ?, result = ?, finished_at = ? "
            "WHERE batch_id = ? AND line_no = ? AND state = 'pending'",
            (int(ok), json.dumps(result), time.time(), batch_id, line_no),
        )
        if cur.rowcount != 1:
            return False
        column = "completed" if ok else "failed"
        conn.execute(f"UPDATE batch_jobs SET {column} = {column} + 1 WHERE id = ?", (batch_id,))
        return True

    def close_pending(self, batch_id: str, result_for: Any, count_failed: bool) -> None:
        """End a job's lines: every pending one gets ``result_for(row)`` as an error, atomically
        (the job's final status is set once its result files are written)."""
        now = time.time()
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT line_no, custom_id FROM batch_lines "
                "WHERE batch_id = ? AND state = 'pending'",
                (batch_id,),
            ).fetchall()
            conn.executemany(
                "UPDATE batch_lines SET state = 'done', ok = 0, result = ?, finished_at = ? "
                "WHERE batch_id = ? AND line_no = ? AND state = 'pending'",
                [(json.dumps(result_for(dict(r))), now, batch_id, r["line_no"]) for r in rows],
            )
            if count_failed:
                conn.execute(
                    "UPDATE batch_jobs SET failed = failed + ? WHERE id = ?", (len(rows), batch_id)
                )

    def iter_results(
        self, batch_id: str, ok: bool | None = None, page: int = 500
    ) -> Iterator[tuple[str, dict]]:
        """``(custom_id, result)`` of finished lines in input order, read a page at a time."""
        last = -1
        extra = "" if ok is None else f" AND ok = {int(ok)}"
        while True:
            rows = self.store.all(
                "SELECT line_no, custom_id, result FROM batch_lines "
                f"WHERE batch_id = ? AND state = 'done' AND line_no > ?{extra} "
                "ORDER BY line_no LIMIT ?",
                (batch_id, last, page),
            )
            if not rows:
                return
            for row in rows:
                yield row["custom_id"], json.loads(row["result"])
            last = rows[-1]["line_no"]

    def lines(self, batch_id: str) -> list[dict[str, Any]]:
        return self.store.all(
            "SELECT line_no, custom_id, url, body, state, ok FROM batch_lines "
            "WHERE batch_id = ? ORDER BY line_no",
            (batch_id,),
        )
