"""The usage table: one row per request, written in the same transaction as its wallet debit."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..store import Store
from .prices import PICO_PER_MICRO

SCHEMA = """
CREATE TABLE IF NOT EXISTS usage_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    key_id TEXT,
    request_id TEXT,
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    tier TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_pico INTEGER NOT NULL,
    latency_ms REAL,
    ttft_ms REAL,
    status INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_records_by_workspace
    ON usage_records (workspace_id, created_at);
CREATE TABLE IF NOT EXISTS wallet_remainders (
    workspace_id TEXT PRIMARY KEY,
    pico INTEGER NOT NULL
);
"""

#: columns added after the first release: (name, type), added to an older table on open
ADDED_COLUMNS = (
    ("input_price_pico", "INTEGER"),  # the price applied, per input token
    ("output_price_pico", "INTEGER"),  # ... and per output token
    ("user_id", "TEXT"),  # the request's `user` (or X-TF-User header)
)
COLUMNS = (
    "workspace_id, key_id, request_id, endpoint, model, tier, prompt_tokens, completion_tokens,"
    " cost_pico, latency_ms, ttft_ms, status, created_at, input_price_pico, output_price_pico,"
    " user_id"
)


@dataclass
class UsageRow:
    workspace_id: str
    key_id: str | None
    request_id: str | None
    endpoint: str
    model: str
    tier: str
    prompt_tokens: int
    completion_tokens: int
    cost_pico: int
    latency_ms: float | None
    ttft_ms: float | None
    status: int
    created_at: float
    input_price_pico: int | None = None
    output_price_pico: int | None = None
    user_id: str | None = None


class UsageRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure_schema("usage", SCHEMA)
        have = {r["name"] for r in store.all("PRAGMA table_info(usage_records)")}
        for name, kind in ADDED_COLUMNS:
            if name not in have:
                store.execute(f"ALTER TABLE usage_records ADD COLUMN {name} {kind}")

    def insert_and_debit(self, row: UsageRow, conn: sqlite3.Connection) -> None:
        """Store the row and take its cost from the workspace's wallet, atomically.

        The wallet keeps whole microdollars in ``workspaces.balance_micros``; the sub-micro
        remainder of what was spent is carried in ``wallet_remainders`` so no cost is lost
        to rounding. A workspace without a wallet (balance NULL) is not debited. Runs in the
        caller's transaction ``conn``, so the row, the debit and whatever the caller commits
        with them are written together or not at all.
        """
        conn.execute(
            f"INSERT INTO usage_records ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                row.workspace_id,
                row.key_id,
                row.request_id,
                row.endpoint,
                row.model,
                row.tier,
                row.prompt_tokens,
                row.completion_tokens,
                row.cost_pico,
                row.latency_ms,
                row.ttft_ms,
                row.status,
                row.created_at,
                row.input_price_pico,
                row.output_price_pico,
                row.user_id,
            ),
        )
        if row.cost_pico <= 0:
            return
        balance = conn.execute(
            "SELECT balance_micros FROM workspaces WHERE id = ?", (row.workspace_id,)
        ).fetchone()
        if balance is None or balance[0] is None:
            return
        carried = conn.execute(
            "SELECT pico FROM wallet_remainders WHERE workspace_id = ?", (row.workspace_id,)
        ).fetchone()
        owed = (carried[0] if carried else 0) + row.cost_pico
        micros, remainder = divmod(owed, PICO_PER_MICRO)
        conn.execute(
            "UPDATE workspaces SET balance_micros = balance_micros - ? WHERE id = ?",
            (micros, row.workspace_id),
        )
        conn.execute(
            "INSERT INTO wallet_remainders (workspace_id, pico) VALUES (?, ?)"
            " ON CONFLICT(workspace_id) DO UPDATE SET pico = excluded.pico",
            (row.workspace_id, remainder),
        )

    def available_pico(self, workspace_id: str) -> int | None:
        """What the wallet can still pay, in picodollars; None when it has no wallet."""
        row = self.store.one(
            "SELECT w.balance_micros AS micros, r.pico AS carried FROM workspaces w"
            " LEFT JOIN wallet_remainders r ON r.workspace_id = w.id WHERE w.id = ?",
            (workspace_id,),
        )
        if row is None or row["micros"] is None:
            return None
        return row["micros"] * PICO_PER_MICRO - (row["carried"] or 0)

    def rows(
        self,
        workspace_id: str,
        *,
        since: float | None = None,
        until: float | None = None,
        model: str | None = None,
        tier: str | None = None,
        user: str | None = None,
    ) -> list[dict]:
        where, params = _filters(workspace_id, since, until, model, tier, user)
        return self.store.all(
            f"SELECT {COLUMNS} FROM usage_records WHERE {where} ORDER BY created_at, id", params
        )

    def grouped(
        self,
        workspace_id: str,
        group_by: list[str],
        *,
        since: float | None = None,
        until: float | None = None,
        model: str | None = None,
        tier: str | None = None,
        user: str | None = None,
    ) -> list[dict]:
        """Sums per group; ``group_by`` is a subset of day, model, tier, endpoint, user."""
        exprs = {
            "day": "date(created_at, 'unixepoch')",
            "model": "model",
            "tier": "tier",
            "endpoint": "endpoint",
            "user": "COALESCE(user_id, '')",
        }
        keys = [f"{exprs[g]} AS {g}" for g in group_by]
        where, params = _filters(workspace_id, since, until, model, tier, user)
        select = ", ".join(
            [
                *keys,
                "COUNT(*) AS requests",
                "SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors",
                "SUM(prompt_tokens) AS prompt_tokens",
                "SUM(completion_tokens) AS completion_tokens",
                "SUM(cost_pico) AS cost_pico",
            ]
        )
        group = f" GROUP BY {', '.join(group_by)} ORDER BY {', '.join(group_by)}" if keys else ""
        return self.store.all(f"SELECT {select} FROM usage_records WHERE {where}{group}", params)

    def tokens_since(self, workspace_id: str, since: float) -> int:
        """Prompt + completion tokens the workspace used from ``since`` on (its month)."""
        row = self.store.one(
            "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS n FROM usage_records"
            " WHERE workspace_id = ? AND created_at >= ?",
            (workspace_id, since),
        )
        return int(row["n"]) if row else 0

    def distinct(self, workspace_id: str, column: str) -> list[str]:
        assert column in ("model", "tier", "endpoint")
        rows = self.store.all(
            f"SELECT DISTINCT {column} AS v FROM usage_records WHERE workspace_id = ?"
            f" AND {column} != '' ORDER BY v",
            (workspace_id,),
        )
        return [r["v"] for r in rows]


def _filters(workspace_id, since, until, model, tier, user=None) -> tuple[str, list]:
    clauses, params = ["workspace_id = ?"], [workspace_id]
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(since)
    if until is not None:
        clauses.append("created_at < ?")
        params.append(until)
    if model:
        clauses.append("model = ?")
        params.append(model)
    if tier:
        clauses.append("tier = ?")
        params.append(tier)
    if user:
        clauses.append("user_id = ?")
        params.append(user)
    return " AND ".join(clauses), params
