"""Names that test the generator's naming and aliasing (test case)."""
