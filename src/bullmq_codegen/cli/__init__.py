"""The ``bullmq-codegen`` command line."""
