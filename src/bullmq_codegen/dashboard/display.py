"""Small formatting helpers the templates use: sparklines, percentages, ages."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["percent", "sparkline_points"]


def sparkline_points(values: Sequence[int], *, width: int = 120, height: int = 24) -> str:
    """The ``points`` of an SVG polyline drawing ``values`` left (oldest) to right."""
    if not values:
        return ""
    top = max(max(values), 1)
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{index * step:.1f},{height - 1 - (value / top) * (height - 2):.1f}"
        for index, value in enumerate(values)
    )


def percent(rate: float | None) -> str:
    """``12.5%``, or ``—`` when there is nothing to rate."""
    return "—" if rate is None else f"{rate * 100:.1f}%"
