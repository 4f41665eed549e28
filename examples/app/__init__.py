"""The example application of bullmq-codegen."""
