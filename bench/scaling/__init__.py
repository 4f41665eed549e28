"""Scaling out and latency under load: ``uv run python -m bench.scaling`` (see ``__main__``)."""
