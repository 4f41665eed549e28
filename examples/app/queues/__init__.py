"""Background jobs of the example application."""
