"""A processor whose annotation does not match its schema (test case)."""
