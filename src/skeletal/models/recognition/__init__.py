"""recognition models (registered on import)."""
