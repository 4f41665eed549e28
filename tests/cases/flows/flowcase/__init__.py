"""Flows and custom backoff strategies (test case)."""
