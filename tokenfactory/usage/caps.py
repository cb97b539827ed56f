"""Monthly token caps per workspace (prompt + completion tokens), reset at the start of each
calendar month in UTC and enforced at admission: a request that could take the month past
the cap is refused before it runs (429 ``monthly_cap_exceeded``, ``Retry-After`` = the reset).

What counts: the month's usage rows plus what admitted requests may still spend (their
estimates), so parallel requests cannot overshoot together. Image and audio units are kept
in the schema for models that will bill them.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from ..errors import InvalidRequestError, RateLimitExceededError
from ..store import Store
from .repository import UsageRepository

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspace_caps (
    workspace_id TEXT PRIMARY KEY,
    monthly_tokens INTEGER,
    monthly_images INTEGER,
    monthly_audio_seconds INTEGER
);
"""
MAX_CAP = 10**15


def month_bounds(now: float) -> tuple[float, float]:
    """The start of ``now``'s calendar month (UTC) and of the next one, as Unix seconds."""
    t = dt.datetime.fromtimestamp(now, dt.timezone.utc)
    start = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    nxt = (start + dt.timedelta(days=32)).replace(day=1)
    return start.timestamp(), nxt.timestamp()


@dataclass
class CapStatus:
    tokens: int
    used: int
    pending: int
    resets_at: float

    @property
    def remaining(self) -> int:
        return max(0, self.tokens - self.used - self.pending)

    def headers(self) -> dict[str, str]:
        return {
            "X-Monthly-Token-Cap": str(self.tokens),
            "X-Monthly-Tokens-Remaining": str(self.remaining),
            "X-Monthly-Cap-Reset": str(int(self.resets_at)),
        }


class MonthlyCaps:
    def __init__(self, store: Store, usage: UsageRepository) -> None:
        self.store = store
        self.usage = usage
        store.ensure_schema("workspace_caps", SCHEMA)
        self._lock = threading.RLock()
        self._caps: dict[str, int | None] = {}
        self._used: dict[str, tuple[float, int]] = {}  # workspace -> (month start, tokens)
        self._pending: dict[str, int] = {}

    # -- settings --------------------------------------------------------------------------
    def cap(self, workspace_id: str) -> int | None:
        with self._lock:
            if workspace_id not in self._caps:
                row = self.store.one(
                    "SELECT monthly_tokens FROM workspace_caps WHERE workspace_id = ?",
                    (workspace_id,),
                )
                self._caps[workspace_id] = row["monthly_tokens"] if row else None
            return self._caps[workspace_id]

    def set(self, workspace_id: str, tokens: int | None) -> None:
        if tokens is not None and (isinstance(tokens, bool) or not 0 <= tokens <= MAX_CAP):
            raise InvalidRequestError(
                f"A monthly token cap is a whole number from 0 to {MAX_CAP}, or null for none",
                param="monthly_tokens",
            )
        with self._lock:
            self.store.execute(
                "INSERT INTO workspace_caps (workspace_id, monthly_tokens) VALUES (?, ?)"
                " ON CONFLICT(workspace_id) DO UPDATE SET monthly_tokens = excluded.monthly_tokens",
                (workspace_id, tokens),
            )
            self._caps[workspace_id] = tokens

    # -- accounting ------------------------------------------------------------------------
    def _month_used(self, workspace_id: str, now: float) -> int:
        start, _ = month_bounds(now)
        cached = self._used.get(workspace_id)
        if cached is None or cached[0] != start:
            cached = (start, self.usage.tokens_since(workspace_id, start))
            self._used[workspace_id] = cached
        return cached[1]

    def status(self, workspace_id: str, now: float) -> CapStatus | None:
        with self._lock:
            tokens = self.cap(workspace_id)
            if tokens is None:
                return None
            return CapStatus(
                tokens,
                self._month_used(workspace_id, now),
                self._pending.get(workspace_id, 0),
                month_bounds(now)[1],
            )

    def admit(
        self, workspace_id: str, workspace_name: str, estimate: int, now: float
    ) -> CapStatus | None:
        """Reserve ``estimate`` tokens of the month, or raise the 429 that says when it resets."""
        with self._lock:
            status = self.status(workspace_id, now)
            if status is None:
                return None
            if estimate > status.remaining:
                wait = max(1, int(status.resets_at - now))
                reset = dt.datetime.fromtimestamp(status.resets_at, dt.timezone.utc)
                raise RateLimitExceededError(
                    f"Workspace '{workspace_name}' has used {status.used + status.pending} of its "
                    f"{status.tokens} monthly tokens; this request may take up to {estimate}. "
                    f"The cap resets at {reset.isoformat()}",
                    code="monthly_cap_exceeded",
                    headers={
                        "Retry-After": str(wait),
                        "x-should-retry": "false",
                        **status.headers(),
                    },
                )
            self._pending[workspace_id] = status.pending + estimate
            status.pending += estimate
            return status

    def release(self, workspace_id: str, estimate: int) -> None:
        with self._lock:
            left = self._pending.get(workspace_id, 0) - estimate
            self._pending[workspace_id] = max(0, left)

    def spent(self, workspace_id: str, tokens: int, created_at: float) -> None:
        """A usage row was written: it counts towards its month from now on."""
        with self._lock:
            start, _ = month_bounds(created_at)
            cached = self._used.get(workspace_id)
            if cached is not None and cached[0] == start:
                self._used[workspace_id] = (start, cached[1] + tokens)
