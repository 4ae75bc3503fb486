"""Metrics of the three tasks, each documented with its units, averaging and protocol."""
