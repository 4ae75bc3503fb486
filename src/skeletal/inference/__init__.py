"""High-level predictors, streaming inference and export."""
