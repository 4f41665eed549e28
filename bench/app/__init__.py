"""The benchmark's application: one definitions module, generated at run time."""
