"""Stored responses, per workspace, in the SQLite store.

A row keeps the response object as answered, and the conversation it answered (the items
chained through ``previous_response_id``, then its own input), so the next response in a
chain is one lookup, and deleting a response leaves the ones chained after it whole. Its own
input items are rows of their own, listed in pages (``GET /v1/responses/{id}/input_items``).
Another workspace's response is not found (404), as an unknown id.
"""

from __future__ import annotations

import time

from ..errors import InvalidRequestError, ResourceNotFoundError
from ..store import Store
from ..wire.responses import ResponseObject, StoredInputItem
from .translate import ITEMS, output_as_items

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    response TEXT NOT NULL,
    conversation TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_ws ON responses(workspace_id);
CREATE TABLE IF NOT EXISTS response_input_items (
    response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    id TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (response_id, position)
);
"""


def _not_found(response_id: str) -> ResourceNotFoundError:
    return ResourceNotFoundError(
        f"No response found with id '{response_id}'", code="response_not_found"
    )


class ResponseRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure_schema("responses", SCHEMA)

    def save(
        self,
        workspace: str,
        response: ResponseObject,
        conversation: list[StoredInputItem],
        own_items: list[StoredInputItem],
    ) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO responses VALUES (?, ?, ?, ?, ?)",
                (
                    response.id,
                    workspace,
                    time.time(),
                    response.model_dump_json(exclude_none=True),
                    ITEMS.dump_json(conversation, exclude_none=True).decode(),
                ),
            )
            conn.executemany(
                "INSERT INTO response_input_items VALUES (?, ?, ?, ?)",
                [
                    (response.id, n, item.id, item.model_dump_json(exclude_none=True))
                    for n, item in enumerate(own_items)
                ],
            )

    def get(self, response_id: str, workspace: str) -> ResponseObject:
        row = self.store.one(
            "SELECT response FROM responses WHERE id = ? AND workspace_id = ?",
            (response_id, workspace),
        )
        if row is None:
            raise _not_found(response_id)
        return ResponseObject.model_validate_json(row["response"])

    def delete(self, response_id: str, workspace: str) -> None:
        with self.store.transaction() as conn:
            gone = conn.execute(
                "DELETE FROM responses WHERE id = ? AND workspace_id = ?",
                (response_id, workspace),
            ).rowcount
        if not gone:
            raise _not_found(response_id)

    def chained(self, response_id: str, workspace: str) -> list[StoredInputItem]:
        """The conversation a response continues from: what it answered, then its output."""
        row = self.store.one(
            "SELECT response, conversation FROM responses WHERE id = ? AND workspace_id = ?",
            (response_id, workspace),
        )
        if row is None:
            raise InvalidRequestError(
                f"Previous response with id '{response_id}' not found",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        previous = ResponseObject.model_validate_json(row["response"])
        return ITEMS.validate_json(row["conversation"]) + output_as_items(previous.output)

    def input_items(
        self,
        response_id: str,
        workspace: str,
        *,
        limit: int,
        after: str | None = None,
        order: str = "desc",
    ) -> list[StoredInputItem]:
        """A page of a response's own input items (``order="desc"``: last first); ``after``
        is the id of the last item of the previous page."""
        self.get(response_id, workspace)
        newest_first = order != "asc"
        sql = "SELECT item FROM response_input_items WHERE response_id = ?"
        params: tuple[object, ...] = (response_id,)
        if after:
            cursor = self.store.one(
                "SELECT position FROM response_input_items WHERE response_id = ? AND id = ?",
                (response_id, after),
            )
            if cursor is None:
                raise ResourceNotFoundError(
                    f"No input item found with id '{after}'", code="input_item_not_found"
                )
            sql += " AND position < ?" if newest_first else " AND position > ?"
            params += (cursor["position"],)
        sql += " ORDER BY position DESC" if newest_first else " ORDER BY position ASC"
        sql += " LIMIT ?"
        params += (limit,)
        rows = self.store.all(sql, params)
        return ITEMS.validate_json("[" + ",".join(r["item"] for r in rows) + "]")
