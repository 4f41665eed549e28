"""A shop whose order jobs share one queue (test case)."""
