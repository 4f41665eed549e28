"""A small application for the test kit's tests: orders are charged, then receipts sent."""
