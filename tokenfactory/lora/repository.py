"""Adapters and their training events in the shared SQLite store, plus their files on disk.

An adapter belongs to one workspace; its ``name`` is unique there and is the model id users
call. The engine knows it by ``id`` (unique across workspaces), so two workspaces can both
have a ``support-v1``.

Files live in ``<data dir>/adapters/<id>/``: ``train.jsonl``, ``validation.jsonl``,
``checkpoints/epoch-N/`` (adapter weights + optimizer state) and ``adapter/`` (the result).
"""

from __future__ import annotations

import builtins
import json
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidRequestError, ResourceNotFoundError
from ..store import Store
from .params import TrainingParams

SCHEMA = """
CREATE TABLE IF NOT EXISTS lora_adapters (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT,
    base_model TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'trained',
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    training_examples INTEGER NOT NULL DEFAULT 0,
    validation_examples INTEGER NOT NULL DEFAULT 0,
    step INTEGER NOT NULL DEFAULT 0,
    total_steps INTEGER NOT NULL DEFAULT 0,
    epoch INTEGER NOT NULL DEFAULT 0,
    train_loss REAL,
    validation_loss REAL,
    error TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    run_started_at REAL,
    run_start_step INTEGER NOT NULL DEFAULT 0,
    UNIQUE (workspace_id, name)
);
CREATE TABLE IF NOT EXISTS lora_events (
    adapter_id TEXT NOT NULL REFERENCES lora_adapters(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    created_at REAL NOT NULL,
    type TEXT NOT NULL,
    step INTEGER,
    epoch INTEGER,
    loss REAL,
    validation_loss REAL,
    message TEXT,
    PRIMARY KEY (adapter_id, seq)
);
"""

ACTIVE = ("validating", "queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")
MUTABLE_COLUMNS = {
    "status",
    "training_examples",
    "validation_examples",
    "step",
    "total_steps",
    "epoch",
    "train_loss",
    "validation_loss",
    "error",
    "started_at",
    "finished_at",
    "run_started_at",
    "run_start_step",
    "params",
}


@dataclass
class AdapterRecord:
    id: str
    workspace_id: str
    name: str
    display_name: str | None
    base_model: str
    source: str
    status: str
    params: TrainingParams
    training_examples: int = 0
    validation_examples: int = 0
    step: int = 0
    total_steps: int = 0
    epoch: int = 0
    train_loss: float | None = None
    validation_loss: float | None = None
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    run_started_at: float | None = None
    run_start_step: int = 0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AdapterRecord:
        row = dict(row)
        row["params"] = TrainingParams.from_dict(json.loads(row["params"]))
        return cls(**row)


class AdapterRepository:
    def __init__(self, store: Store, root: Path) -> None:
        self.store = store
        self.root = root
        store.ensure_schema("lora", SCHEMA)

    # -- files -----------------------------------------------------------------------------
    def folder(self, adapter_id: str) -> Path:
        return self.root / adapter_id

    def training_file(self, adapter_id: str) -> Path:
        return self.folder(adapter_id) / "train.jsonl"

    def validation_file(self, adapter_id: str) -> Path:
        return self.folder(adapter_id) / "validation.jsonl"

    def checkpoints(self, adapter_id: str) -> Path:
        return self.folder(adapter_id) / "checkpoints"

    def adapter_dir(self, adapter_id: str) -> Path:
        return self.folder(adapter_id) / "adapter"

    # -- records ---------------------------------------------------------------------------
    def create(
        self,
        workspace_id: str,
        name: str,
        display_name: str | None,
        base_model: str,
        params: TrainingParams,
        *,
        source: str = "trained",
        status: str = "created",
    ) -> AdapterRecord:
        record = AdapterRecord(
            id="lora_" + secrets.token_hex(8),
            workspace_id=workspace_id,
            name=name,
            display_name=display_name or name,
            base_model=base_model,
            source=source,
            status=status,
            params=params,
        )
        with self.store.transaction() as conn:
            taken = conn.execute(
                "SELECT 1 FROM lora_adapters WHERE workspace_id = ? AND name = ?",
                (workspace_id, name),
            ).fetchone()
            if taken:
                raise InvalidRequestError(
                    f"An adapter named '{name}' already exists in this workspace",
                    param="name",
                    code="adapter_exists",
                )
            conn.execute(
                "INSERT INTO lora_adapters (id, workspace_id, name, display_name, base_model,"
                " source, status, params, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    workspace_id,
                    name,
                    record.display_name,
                    base_model,
                    source,
                    status,
                    json.dumps(params.to_dict()),
                    record.created_at,
                ),
            )
        self.folder(record.id).mkdir(parents=True, exist_ok=True)
        return record

    def find(self, workspace_id: str, name_or_id: str) -> AdapterRecord | None:
        row = self.store.one(
            "SELECT * FROM lora_adapters WHERE workspace_id = ? AND (name = ? OR id = ?)",
            (workspace_id, name_or_id, name_or_id),
        )
        return AdapterRecord.from_row(row) if row else None

    def get(self, workspace_id: str, name_or_id: str) -> AdapterRecord:
        record = self.find(workspace_id, name_or_id)
        if record is None:
            raise ResourceNotFoundError(
                f"No adapter named '{name_or_id}' in this workspace", code="adapter_not_found"
            )
        return record

    def by_id(self, adapter_id: str) -> AdapterRecord | None:
        row = self.store.one("SELECT * FROM lora_adapters WHERE id = ?", (adapter_id,))
        return AdapterRecord.from_row(row) if row else None

    def reload(self, adapter_id: str) -> AdapterRecord:
        """The record as stored now, after an update; ResourceNotFoundError if deleted since."""
        record = self.by_id(adapter_id)
        if record is None:
            raise ResourceNotFoundError(
                f"Adapter '{adapter_id}' was deleted", code="adapter_not_found"
            )
        return record

    def list(
        self, workspace_id: str | None = None, statuses: tuple[str, ...] = ()
    ) -> builtins.list[AdapterRecord]:
        sql, args = "SELECT * FROM lora_adapters WHERE 1=1", []
        if workspace_id is not None:
            sql += " AND workspace_id = ?"
            args.append(workspace_id)
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            args.extend(statuses)
        rows = self.store.all(sql + " ORDER BY created_at", tuple(args))
        return [AdapterRecord.from_row(r) for r in rows]

    def update(self, adapter_id: str, **fields: Any) -> None:
        unknown = set(fields) - MUTABLE_COLUMNS
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        if "params" in fields and isinstance(fields["params"], TrainingParams):
            fields["params"] = json.dumps(fields["params"].to_dict())
        assignments = ", ".join(f"{k} = ?" for k in fields)
        self.store.execute(
            f"UPDATE lora_adapters SET {assignments} WHERE id = ?", (*fields.values(), adapter_id)
        )

    def delete(self, adapter_id: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM lora_events WHERE adapter_id = ?", (adapter_id,))
            conn.execute("DELETE FROM lora_adapters WHERE id = ?", (adapter_id,))
        shutil.rmtree(self.folder(adapter_id), ignore_errors=True)

    # -- events ----------------------------------------------------------------------------
    def add_event(self, adapter_id: str, type: str, **fields: Any) -> None:
        with self.store.transaction() as conn:
            last = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM lora_events WHERE adapter_id = ?", (adapter_id,)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO lora_events (adapter_id, seq, created_at, type, step, epoch, loss,"
                " validation_loss, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    adapter_id,
                    last + 1,
                    time.time(),
                    type,
                    fields.get("step"),
                    fields.get("epoch"),
                    fields.get("loss"),
                    fields.get("validation_loss"),
                    fields.get("message"),
                ),
            )

    def events(self, adapter_id: str, after: int = 0, limit: int = 10000) -> builtins.list[dict]:
        return self.store.all(
            "SELECT seq, created_at, type, step, epoch, loss, validation_loss, message"
            " FROM lora_events WHERE adapter_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (adapter_id, after, limit),
        )
