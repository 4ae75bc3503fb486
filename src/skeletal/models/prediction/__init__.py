"""prediction models (registered on import)."""
