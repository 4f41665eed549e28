"""The soak's queue (copied into a temporary directory and generated there by the soak)."""
