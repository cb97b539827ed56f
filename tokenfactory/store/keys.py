"""Workspaces and API keys. Only a SHA-256 hash of a key is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from ..errors import InvalidRequestError, ResourceNotFoundError, UnauthenticatedError
from .db import Store

KEY_PREFIX = "tf-"

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    tier TEXT NOT NULL DEFAULT 'unlimited',
    balance_micros INTEGER,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    name TEXT,
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
"""


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    tier: str
    balance_micros: int | None


@dataclass(frozen=True)
class Principal:
    """Who a request is from: the workspace its key belongs to."""

    workspace: Workspace
    key_id: str
    is_admin: bool = False


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class KeyStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure_schema("keys", SCHEMA)

    def create_workspace(self, name: str, tier: str = "unlimited") -> Workspace:
        existing = self.find_workspace(name)
        if existing is not None:
            return existing
        ws_id = "ws_" + secrets.token_hex(8)
        self.store.execute(
            "INSERT INTO workspaces (id, name, tier, created_at) VALUES (?, ?, ?, ?)",
            (ws_id, name, tier, int(time.time())),
        )
        return Workspace(ws_id, name, tier, None)

    def find_workspace(self, name_or_id: str) -> Workspace | None:
        row = self.store.one(
            "SELECT id, name, tier, balance_micros FROM workspaces WHERE name = ? OR id = ?",
            (name_or_id, name_or_id),
        )
        return Workspace(**row) if row else None

    def workspace(self, name_or_id: str) -> Workspace:
        ws = self.find_workspace(name_or_id)
        if ws is None:
            raise ResourceNotFoundError(f"Workspace '{name_or_id}' not found")
        return ws

    def list_workspaces(self) -> list[Workspace]:
        rows = self.store.all(
            "SELECT id, name, tier, balance_micros FROM workspaces ORDER BY created_at, name"
        )
        return [Workspace(**row) for row in rows]

    def set_tier(self, name_or_id: str, tier: str) -> Workspace:
        ws = self.workspace(name_or_id)
        self.store.execute("UPDATE workspaces SET tier = ? WHERE id = ?", (tier, ws.id))
        return self.workspace(ws.id)

    def set_balance(self, name_or_id: str, balance_micros: int | None) -> Workspace:
        """Set the wallet (in microdollars); ``None`` removes it (no wallet: never 402)."""
        ws = self.workspace(name_or_id)
        self.store.execute(
            "UPDATE workspaces SET balance_micros = ? WHERE id = ?", (balance_micros, ws.id)
        )
        return self.workspace(ws.id)

    def top_up(
        self, name_or_id: str, amount_micros: int, *, limit_micros: int = 10**15
    ) -> Workspace:
        """Add to the wallet in one statement (a request charged meanwhile is not lost); a
        workspace with no wallet gets one holding ``amount_micros``."""
        ws = self.workspace(name_or_id)
        if (ws.balance_micros or 0) + amount_micros > limit_micros:
            raise InvalidRequestError(
                f"A wallet holds at most ${limit_micros / 1e6:,.0f}", param="amount_usd"
            )
        self.store.execute(
            "UPDATE workspaces SET balance_micros = COALESCE(balance_micros, 0) + ? WHERE id = ?",
            (amount_micros, ws.id),
        )
        return self.workspace(ws.id)

    def find_key(self, key_id: str) -> dict | None:
        """A key's metadata (never the key): id, workspace_id, prefix, name, is_admin, ..."""
        return self.store.one(
            "SELECT id, workspace_id, prefix, name, is_admin, created_at, revoked_at"
            " FROM api_keys WHERE id = ?",
            (key_id,),
        )

    def create_key(
        self,
        workspace: str,
        *,
        name: str | None = None,
        key: str | None = None,
        is_admin: bool = False,
    ) -> tuple[str, str]:
        """Create (or register a given) key for a workspace; returns ``(key_id, key)``."""
        ws = self.create_workspace(workspace)
        key = key or new_key()
        if len(key) < 8:
            raise InvalidRequestError("An API key must be at least 8 characters long")
        key_hash = hash_key(key)
        row = self.store.one(
            "SELECT id, workspace_id FROM api_keys WHERE key_hash = ?", (key_hash,)
        )
        if row is not None:
            if row["workspace_id"] != ws.id:
                raise InvalidRequestError("That key already belongs to another workspace")
            self.store.execute("UPDATE api_keys SET revoked_at = NULL WHERE id = ?", (row["id"],))
            return row["id"], key
        key_id = "key_" + secrets.token_hex(8)
        self.store.execute(
            "INSERT INTO api_keys (id, workspace_id, key_hash, prefix, name, is_admin, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key_id, ws.id, key_hash, key[:7], name, int(is_admin), int(time.time())),
        )
        return key_id, key

    def list_keys(self, workspace: str) -> list[dict]:
        ws = self.workspace(workspace)
        return self.store.all(
            "SELECT id, prefix, name, is_admin, created_at, revoked_at FROM api_keys"
            " WHERE workspace_id = ? ORDER BY created_at",
            (ws.id,),
        )

    def revoke_key(self, key_id: str) -> None:
        cur = self.store.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (int(time.time()), key_id),
        )
        if cur.rowcount == 0:
            raise ResourceNotFoundError(f"Key '{key_id}' not found")

    def authenticate(self, key: str | None) -> Principal:
        if not key:
            raise UnauthenticatedError(
                "Missing API key: pass 'Authorization: Bearer KEY' or '?api_key=KEY'",
                code="missing_api_key",
            )
        digest = hash_key(key)
        row = self.store.one(
            "SELECT k.id AS key_id, k.key_hash, k.is_admin, k.revoked_at,"
            " w.id, w.name, w.tier, w.balance_micros"
            " FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.key_hash = ?",
            (digest,),
        )
        if row is None or not hmac.compare_digest(row["key_hash"], digest):
            raise UnauthenticatedError("Invalid API key provided")
        if row["revoked_at"] is not None:
            raise UnauthenticatedError("This API key has been revoked", code="revoked_api_key")
        ws = Workspace(row["id"], row["name"], row["tier"], row["balance_micros"])
        return Principal(ws, row["key_id"], bool(row["is_admin"]))
