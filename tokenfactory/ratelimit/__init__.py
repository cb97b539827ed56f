"""Per-workspace rate limits: requests/min and tokens/min by tier."""

from .limiter import RateLimiter, Reservation
from .tiers import DEFAULT_TIERS, LIMITED_USAGE_TIERS, Tier

__all__ = ["DEFAULT_TIERS", "LIMITED_USAGE_TIERS", "RateLimiter", "Reservation", "Tier"]
