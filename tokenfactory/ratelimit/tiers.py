"""Rate-limit tiers: how many requests and tokens a workspace may spend per minute."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    """``rpm``/``tpm`` of ``None`` mean no limit (the local ``unlimited`` tier)."""

    name: str
    rpm: int | None
    tpm: int | None

    @property
    def unlimited(self) -> bool:
        return self.rpm is None and self.tpm is None


DEFAULT_TIERS: dict[str, Tier] = {
    "free": Tier("free", 20, 40_000),
    "standard": Tier("standard", 60, 150_000),
    "pro": Tier("pro", 200, 500_000),
    "unlimited": Tier("unlimited", None, None),
}

# Usage tiers (what a request is priced at) that the per-minute limits apply to. Batch lines
# run in the background at batch priority and are paced by the batch runner instead.
LIMITED_USAGE_TIERS = frozenset({"realtime", "embeddings"})
