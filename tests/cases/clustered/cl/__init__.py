"""Jobs on a Redis Cluster (test case)."""
