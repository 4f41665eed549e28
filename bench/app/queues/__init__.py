"""Background jobs of the benchmark application."""
