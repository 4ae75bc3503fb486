"""Skeleton layouts, the graphs built from them, and converters between layouts.

Example:
    >>> from skeletal import skeletons
    >>> skeletons.get("ntu25").num_joints
    25
"""

from skeletal.skeletons import layouts  # noqa: F401  (registers the built-in layouts)
from skeletal.skeletons.convert import Converter, conversion_path, convert, converters, register_converter
from skeletal.skeletons.graphs import (
    adjacency,
    agcn_partitions,
    distal_joints,
    hop_distance,
    kinematic_adjacency,
    stgcn_partitions,
    symmetric_adjacency,
)
from skeletal.skeletons.layout_file import read_layout, write_layout
from skeletal.skeletons.skeleton import Skeleton, from_edges, get, names, register

__all__ = [
    "Converter",
    "Skeleton",
    "adjacency",
    "agcn_partitions",
    "conversion_path",
    "convert",
    "converters",
    "distal_joints",
    "from_edges",
    "get",
    "hop_distance",
    "kinematic_adjacency",
    "names",
    "read_layout",
    "register",
    "register_converter",
    "stgcn_partitions",
    "symmetric_adjacency",
    "write_layout",
]
