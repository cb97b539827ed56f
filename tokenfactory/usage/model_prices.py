"""Per-model prices kept in the store (set by the admin API or ``tokenfactory prices``)."""

from __future__ import annotations

import time
from decimal import Decimal

from ..store import Store
from .prices import Price, PriceTable

SCHEMA = """
CREATE TABLE IF NOT EXISTS model_prices (
    model TEXT PRIMARY KEY,
    input_usd_per_1m TEXT NOT NULL,
    output_usd_per_1m TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""


class ModelPriceRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure_schema("model_prices", SCHEMA)

    def all(self) -> dict[str, Price]:
        rows = self.store.all("SELECT * FROM model_prices ORDER BY model")
        return {
            r["model"]: Price(Decimal(r["input_usd_per_1m"]), Decimal(r["output_usd_per_1m"]))
            for r in rows
        }

    def set(self, model: str, price: Price, table: PriceTable | None = None) -> None:
        self.store.execute(
            "INSERT INTO model_prices VALUES (?, ?, ?, ?) ON CONFLICT(model) DO UPDATE SET"
            " input_usd_per_1m = excluded.input_usd_per_1m,"
            " output_usd_per_1m = excluded.output_usd_per_1m, updated_at = excluded.updated_at",
            (model, str(price.input), str(price.output), time.time()),
        )
        if table is not None:
            table.models[model] = price

    def unset(self, model: str, table: PriceTable | None = None) -> bool:
        """Drop a model's own price (an embedded default model goes back to its default)."""
        gone = self.store.execute("DELETE FROM model_prices WHERE model = ?", (model,)).rowcount
        if table is not None:
            from .prices import DEFAULT_MODEL_PRICES

            table.models.pop(model, None)
            if model in DEFAULT_MODEL_PRICES:
                table.models[model] = DEFAULT_MODEL_PRICES[model]
        return bool(gone)
