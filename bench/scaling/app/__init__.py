"""The queues the scaling and latency benchmarks drive (``queue_definitions.py``)."""
