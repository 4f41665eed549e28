"""The benchmark suite of bullmq-codegen: `uv run python -m bench`."""
