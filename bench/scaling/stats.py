"""Percentiles of measured delays."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["percentile_ms"]


def percentile_ms(ordered_ns: Sequence[int], fraction: float) -> float:
    """Nearest-rank percentile of sorted nanoseconds, in milliseconds (3 decimals)."""
    return round(ordered_ns[max(math.ceil(fraction * len(ordered_ns)) - 1, 0)] / 1e6, 3)
