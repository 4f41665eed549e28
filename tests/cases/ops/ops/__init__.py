"""Jobs for the runner and fault tests (test case)."""
