"""lifting models (registered on import)."""
