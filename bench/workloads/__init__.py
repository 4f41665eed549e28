"""Programs that run one measurement each, in a fresh process."""
