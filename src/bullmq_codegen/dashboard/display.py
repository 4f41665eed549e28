"""Small formatting helpers the templates use: sparklines, percentages, long values clipped."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["SHOWN_CHARACTERS", "clip", "percent", "sparkline_points"]

SHOWN_CHARACTERS = 20_000
"""The most of one stored value (a field, a log line, a failed reason) a page shows: a job
carrying megabytes of data stays a page of kilobytes, refreshed every few seconds."""


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


def clip(text: object) -> str:
    """``text`` cut at :data:`SHOWN_CHARACTERS`, saying how much more there is."""
    shown = str(text)
    if len(shown) <= SHOWN_CHARACTERS:
        return shown
    hidden = len(shown) - SHOWN_CHARACTERS
    return f"{shown[:SHOWN_CHARACTERS]}… ({hidden:,} more characters not shown)"
