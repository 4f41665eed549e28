# Minimal stubs of bullmq 3.4.4 (which ships no py.typed): only what bullmq-codegen uses.
__version__: str
