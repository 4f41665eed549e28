"""The dashboard benchmark: ``python -m bench.dashboard`` (see docs/benchmarks/dashboard.md)."""
