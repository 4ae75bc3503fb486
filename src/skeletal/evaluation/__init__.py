"""Named evaluation protocols of the papers' tables (prediction; lifting and recognition beside it).

Each protocol takes a model (or an array of predictions) and the data, and returns a table that the CLI prints.
"""
