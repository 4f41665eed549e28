"""Redis Cluster benchmarks: faults under load (``python -m bench.cluster.faults``)."""
