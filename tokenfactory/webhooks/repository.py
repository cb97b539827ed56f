"""Webhook endpoints, their pending deliveries and every delivery attempt, in the SQLite store.

A delivery is one event for one endpoint; it stays ``pending`` (with the time of its next
attempt) until an attempt succeeds (``delivered``) or its retry window ends (``failed``), so
a gateway killed between attempts picks the queue up where it stopped.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from ..errors import ResourceNotFoundError
from ..store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_endpoints_ws ON webhook_endpoints(workspace_id);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    created_at REAL NOT NULL,
    finished_at REAL,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at REAL NOT NULL,
    status_code INTEGER,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
"""


class WebhookRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure_schema("webhooks", SCHEMA)

    # -- endpoints --------------------------------------------------------------------------
    def add_endpoint(
        self, workspace: str, url: str, secret: str, events: list[str], description: str | None
    ) -> dict[str, Any]:
        endpoint_id = "whep_" + uuid.uuid4().hex[:20]
        self.store.execute(
            "INSERT INTO webhook_endpoints VALUES (?, ?, ?, ?, ?, ?, ?)",
            (endpoint_id, workspace, url, secret, json.dumps(events), description, time.time()),
        )
        return self.endpoint(endpoint_id)

    def endpoint(self, endpoint_id: str) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
        if row is None:
            raise ResourceNotFoundError(
                f"No webhook endpoint found with id '{endpoint_id}'", code="webhook_not_found"
            )
        return _endpoint(row)

    def endpoints(self, workspace: str | None = None) -> list[dict[str, Any]]:
        if workspace is None:
            rows = self.store.all("SELECT * FROM webhook_endpoints ORDER BY rowid")
        else:
            rows = self.store.all(
                "SELECT * FROM webhook_endpoints WHERE workspace_id = ? ORDER BY rowid",
                (workspace,),
            )
        return [_endpoint(r) for r in rows]

    def remove_endpoint(self, endpoint_id: str) -> None:
        self.endpoint(endpoint_id)
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE webhook_deliveries SET status = 'cancelled', finished_at = ? "
                "WHERE endpoint_id = ? AND status = 'pending'",
                (time.time(), endpoint_id),
            )
            conn.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,))

    # -- deliveries -------------------------------------------------------------------------
    def enqueue(self, endpoint_id: str, event: dict[str, Any]) -> None:
        now = time.time()
        self.store.execute(
            "INSERT OR IGNORE INTO webhook_deliveries "
            "(id, endpoint_id, event_id, event_type, payload, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                "whdl_" + uuid.uuid4().hex[:20],
                endpoint_id,
                event["id"],
                event["type"],
                json.dumps(event, separators=(",", ":")),
                now,
                now,
            ),
        )

    def due(self, now: float, limit: int = 32) -> list[dict[str, Any]]:
        return self.store.all(
            "SELECT d.*, e.url, e.secret FROM webhook_deliveries d "
            "JOIN webhook_endpoints e ON e.id = d.endpoint_id "
            "WHERE d.status = 'pending' AND d.next_attempt_at <= ? "
            "ORDER BY d.next_attempt_at LIMIT ?",
            (now, limit),
        )

    def record_attempt(
        self,
        delivery: dict[str, Any],
        status_code: int | None,
        error: str | None,
        outcome: str,
        next_attempt_at: float | None,
    ) -> None:
        """One attempt and its outcome (``delivered``, ``pending`` again, or ``failed``)."""
        attempt = delivery["attempts"] + 1
        now = time.time()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO webhook_attempts VALUES (?, ?, ?, ?, ?)",
                (delivery["id"], attempt, now, status_code, error),
            )
            conn.execute(
                "UPDATE webhook_deliveries SET attempts = ?, status = ?, next_attempt_at = ?, "
                "finished_at = ? WHERE id = ? AND status = 'pending'",
                (
                    attempt,
                    outcome,
                    next_attempt_at if next_attempt_at is not None else now,
                    None if outcome == "pending" else now,
                    delivery["id"],
                ),
            )

    def deliveries(self, endpoint_id: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.store.all(
            "SELECT * FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY rowid DESC LIMIT ?",
            (endpoint_id, limit),
        )
        for row in rows:
            row["attempt_log"] = self.store.all(
                "SELECT attempt, at, status_code, error FROM webhook_attempts "
                "WHERE delivery_id = ? ORDER BY attempt",
                (row["id"],),
            )
        return rows


def _endpoint(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "events": json.loads(row["events"])}
