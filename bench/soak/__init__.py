"""The soak (``python -m bench soak``): long-run proof that no job is lost or run twice."""
