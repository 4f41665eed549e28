"""Job schedulers declared in the definitions (test case)."""
