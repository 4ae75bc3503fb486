"""Skeleton animations, attention maps and plots."""
