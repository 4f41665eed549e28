"""The runner's exit codes, for supervisors and scripts."""

from __future__ import annotations

__all__ = ["EXIT_BAD_INPUT", "EXIT_FATAL", "EXIT_FORCED", "EXIT_OK"]

EXIT_OK = 0
"""Stopped gracefully (or nothing to run)."""
EXIT_FATAL = 1
"""Redis unreachable past the timeout, or a worker died without auto restart."""
EXIT_BAD_INPUT = 2
"""Stale generated code, bad settings or selection."""
EXIT_FORCED = 3
"""Stopped with jobs still running (graceful timeout passed, or a second signal)."""
