"""Readers for the published dataset formats, preparation pipelines, transforms and the synthetic generator."""
