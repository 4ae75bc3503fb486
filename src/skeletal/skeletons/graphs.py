"""Graphs built from a :class:`~skeletal.skeletons.Skeleton`.

Every builder returns a float32 numpy array; models register it as a buffer.

- :func:`adjacency`: the tree's adjacency with self loops, optionally normalised.
- :func:`hop_distance`: shortest-path hop counts between joints.
- :func:`stgcn_partitions`: the partition strategies of ST-GCN (Yan et al. 2018, section 3.6; official
  ``net/utils/graph.py``): ``uniform`` (1 subset), ``distance`` (2 subsets by hop distance) and ``spatial``
  (3 subsets; in the official order: the root itself, the neighbours farther from the centre than the root
  (centrifugal), the neighbours nearer to it (centripetal)).
- :func:`agcn_partitions`: the 3-subset graph of 2s-AGCN (Shi et al. 2019; official ``graph/tools.py``), the
  ``A_k`` of Eq. 3 used by ST-TR: identity, inward (child -> parent) and outward links, each column-normalised.
- :func:`symmetric_adjacency` and :func:`kinematic_adjacency`: the two local kernels of GAST-Net (Liu et al.
  2020, section 3.2): left/right partners, and first-order links with second-order links for distal joints.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from skeletal.skeletons.skeleton import Skeleton, get


def _links(skeleton: Skeleton) -> np.ndarray:
    """Binary symmetric adjacency of the tree, without self loops."""
    num = skeleton.num_joints
    links = np.zeros((num, num), dtype=np.float32)
    for child, parent in skeleton.edges:
        links[child, parent] = links[parent, child] = 1.0
    return links


def normalize_columns(matrix: np.ndarray) -> np.ndarray:
    """``A D^-1`` with ``D`` the column sums (ST-GCN's ``normalize_digraph``); empty columns stay zero."""
    degree = matrix.sum(axis=0)
    inverse = np.where(degree > 0, 1.0 / np.where(degree > 0, degree, 1.0), 0.0)
    return (matrix * inverse[None, :]).astype(np.float32)


def normalize_symmetric(matrix: np.ndarray) -> np.ndarray:
    """``D^-1/2 A D^-1/2`` with ``D`` the row sums (Kipf & Welling)."""
    degree = matrix.sum(axis=1)
    inverse = np.where(degree > 0, 1.0 / np.sqrt(np.where(degree > 0, degree, 1.0)), 0.0)
    return (inverse[:, None] * matrix * inverse[None, :]).astype(np.float32)


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """``D^-1 A`` with ``D`` the row sums (each row sums to one)."""
    degree = matrix.sum(axis=1)
    inverse = np.where(degree > 0, 1.0 / np.where(degree > 0, degree, 1.0), 0.0)
    return (inverse[:, None] * matrix).astype(np.float32)


def adjacency(
    skeleton: Skeleton | str,
    self_loops: bool = True,
    normalize: Literal[None, "columns", "rows", "symmetric"] = None,
) -> np.ndarray:
    """Adjacency matrix of the skeleton tree.

    Args:
        skeleton: A layout or its registry name.
        self_loops: Add the identity.
        normalize: ``None`` (binary), ``"columns"`` (``A D^-1``, ST-GCN), ``"rows"`` (``D^-1 A``) or
            ``"symmetric"`` (``D^-1/2 A D^-1/2``).

    Returns:
        ``(V, V)`` float32 array, symmetric before normalisation.
    """
    skeleton = get(skeleton)
    matrix = _links(skeleton)
    if self_loops:
        matrix = matrix + np.eye(skeleton.num_joints, dtype=np.float32)
    if normalize is None:
        return matrix
    return {"columns": normalize_columns, "rows": normalize_rows, "symmetric": normalize_symmetric}[normalize](matrix)


def hop_distance(skeleton: Skeleton | str, max_hop: int | None = None) -> np.ndarray:
    """Hop distance between every pair of joints; ``inf`` beyond ``max_hop`` (ST-GCN's ``get_hop_distance``)."""
    skeleton = get(skeleton)
    num = skeleton.num_joints
    links = _links(skeleton) + np.eye(num, dtype=np.float32)
    limit = num if max_hop is None else max_hop
    distance = np.full((num, num), np.inf)
    reach = np.eye(num)
    power = np.eye(num)
    distance[reach > 0] = 0
    for hop in range(1, limit + 1):
        power = np.minimum(power @ links, 1.0)
        newly = (power > 0) & np.isinf(distance)
        distance[newly] = hop
        if not np.isinf(distance).any():
            break
    return distance


def stgcn_partitions(
    skeleton: Skeleton | str,
    strategy: Literal["uniform", "distance", "spatial"] = "spatial",
    max_hop: int = 1,
    dilation: int = 1,
) -> np.ndarray:
    """ST-GCN partitioned, column-normalised adjacency (Yan et al. 2018, section 3.6, Eq. 9-10).

    Args:
        skeleton: A layout; its ``center`` is the body centre of the ``spatial`` strategy.
        strategy: ``uniform`` (K=1), ``distance`` (K=max_hop+1) or ``spatial`` (K=2*max_hop+1).
        max_hop: Neighbourhood radius (1 in the paper).
        dilation: Hop step.

    Returns:
        ``(K, V, V)`` float32 array ``A[k, j, i]``: weight of joint ``j`` in the aggregation at joint ``i``.
    """
    skeleton = get(skeleton)
    num = skeleton.num_joints
    hops = hop_distance(skeleton, max_hop)
    valid_hops = range(0, max_hop + 1, dilation)
    binary = np.zeros((num, num), dtype=np.float32)
    for hop in valid_hops:
        binary[hops == hop] = 1.0
    normalized = normalize_columns(binary)
    if strategy == "uniform":
        return normalized[None].astype(np.float32)
    if strategy == "distance":
        parts = np.zeros((len(valid_hops), num, num), dtype=np.float32)
        for k, hop in enumerate(valid_hops):
            parts[k][hops == hop] = normalized[hops == hop]
        return parts
    if strategy != "spatial":
        raise ValueError(f"unknown ST-GCN partition strategy {strategy!r}; expected uniform, distance or spatial")
    to_center = hops[:, skeleton.center]
    spatial_parts: list[np.ndarray] = []
    for hop in valid_hops:
        same = np.zeros((num, num), dtype=np.float32)
        closer = np.zeros((num, num), dtype=np.float32)
        farther = np.zeros((num, num), dtype=np.float32)
        for i in range(num):
            for j in range(num):
                if hops[j, i] != hop:
                    continue
                if to_center[j] == to_center[i]:
                    same[j, i] = normalized[j, i]
                elif to_center[j] > to_center[i]:
                    closer[j, i] = normalized[j, i]
                else:
                    farther[j, i] = normalized[j, i]
        if hop == 0:
            spatial_parts.append(same)
        else:
            spatial_parts.extend([same + closer, farther])
    return np.stack(spatial_parts).astype(np.float32)


def agcn_partitions(skeleton: Skeleton | str) -> np.ndarray:
    """The spatial graph of 2s-AGCN, ``A_k`` of Eq. 3 (Shi et al. 2019): ``[I, inward, outward]``.

    ``inward[j, i] = 1`` for every link from child ``i`` to its parent ``j`` (toward the root), ``outward`` its
    transpose; both column-normalised. The tree's root should be the graph centre (true for ``ntu25``).

    Returns:
        ``(3, V, V)`` float32 array.
    """
    skeleton = get(skeleton)
    num = skeleton.num_joints
    inward = np.zeros((num, num), dtype=np.float32)
    for child, parent in skeleton.edges:
        inward[parent, child] = 1.0
    return np.stack([np.eye(num, dtype=np.float32), normalize_columns(inward), normalize_columns(inward.T)])


def symmetric_adjacency(skeleton: Skeleton | str) -> np.ndarray:
    """GAST-Net's symmetric kernel ``A_s`` (section 3.2): each joint and its left/right partner.

    Returns:
        ``(V, V)`` binary float32 array with the identity and a 1 between every left joint and its right
        partner (29 non-zeros on ``h36m17``).
    """
    skeleton = get(skeleton)
    matrix = np.eye(skeleton.num_joints, dtype=np.float32)
    for lft, rgt in zip(skeleton.left, skeleton.right):
        matrix[lft, rgt] = matrix[rgt, lft] = 1.0
    return matrix


def distal_joints(skeleton: Skeleton | str) -> tuple[int, ...]:
    """Joints at the end of a kinematic chain (leaves of the tree), e.g. feet, wrists and head."""
    skeleton = get(skeleton)
    return tuple(j for j, kids in enumerate(skeleton.children) if not kids)


def kinematic_adjacency(skeleton: Skeleton | str, distal: tuple[int, ...] | None = None) -> np.ndarray:
    """GAST-Net's kinematic kernel ``A_c`` (section 3.2): first-order links, second-order for distal joints.

    The row of a distal joint (a leaf: ankle, wrist, head) holds its second-order neighbourhood (the square of
    the adjacency with self loops); every other row its first-order neighbourhood, as in the official
    ``LocalGraph``. Binary.

    Args:
        skeleton: A layout or its name.
        distal: Distal joints; by default the leaves of the tree (3, 6, 10, 13, 16 on ``h36m17``).

    Returns:
        ``(V, V)`` binary float32 array (54 non-zeros on ``h36m17``); not symmetric.
    """
    skeleton = get(skeleton)
    first = adjacency(skeleton, self_loops=True)
    second = np.minimum(first @ first, 1.0)
    rows = distal_joints(skeleton) if distal is None else distal
    matrix = first.copy()
    for joint in rows:
        matrix[joint] = second[joint]
    return matrix.astype(np.float32)
