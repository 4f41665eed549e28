"""Models of two domains that reuse class names."""
