"""Forward kinematics: local joint rotations + bone offsets -> global rotations and joint positions.

Column-vector convention (``x' = R @ x``)::

    G[j] = G[parent(j)] @ L[j]
    p[j] = p[parent(j)] + G[parent(j)] @ offset[j]

and for a root (parent ``-1``): ``G[root] = L[root]``, ``p[root] = offset[root] + root_position``.

Relation to the row-vector code of the motion-prediction benchmarks (Martinez et al. 2017, ``fkl`` in
``una-dinosauria/human-motion-prediction``; also ``eth-ait/spl`` with ``left_mult=False``): there
``R_glob[j] = R(w_j) @ R_glob[parent]`` and ``p[j] = offset[j] @ R_glob[parent] + p[parent]`` with row vectors
and ``R(w)`` = Rodrigues of the exp-map ``w``. Transposing both equations gives ours with
``L[j] = R(w_j).T = R(-w_j)`` and ``G[j] = R_glob[j].T``. So an exp-map sequence of that benchmark yields the
same positions with ``forward_kinematics(axis_angle_to_matrix(-w), offsets, parents)`` (tested in
``tests/test_geometry.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from skeletal.errors import LayoutError, ShapeError
from skeletal.geometry._arrays import ArrayLike, as_tensor_like, check_last_dims, numpy_or_torch, tensor


def topological_order(parents: Sequence[int]) -> list[int]:
    """Joint indices ordered so that every parent comes before its children (roots have parent ``-1``)."""
    parents = [int(p) for p in parents]
    num_joints = len(parents)
    for joint, parent in enumerate(parents):
        if parent < -1 or parent >= num_joints or parent == joint:
            raise LayoutError(f"joint {joint} has parent {parent}; expected -1 or an index in [0, {num_joints})")
    children: list[list[int]] = [[] for _ in parents]
    order = [j for j, p in enumerate(parents) if p == -1]
    for joint, parent in enumerate(parents):
        if parent >= 0:
            children[parent].append(joint)
    position = 0
    while position < len(order):
        order.extend(children[order[position]])
        position += 1
    if len(order) != num_joints:
        missing = sorted(set(range(num_joints)) - set(order))
        raise LayoutError(f"parents contain a cycle or no root: joints {missing} are not reachable from a root")
    return order


@numpy_or_torch
def forward_kinematics(
    local_rotations: ArrayLike,
    offsets: ArrayLike | Sequence[Sequence[float]],
    parents: Sequence[int] | ArrayLike,
    root_positions: ArrayLike | None = None,
) -> tuple[ArrayLike, ArrayLike]:
    """Global rotations and positions of every joint (vectorised over the batch, loop over joints).

    Args:
        local_rotations: Rotation of each joint relative to its parent (the root: relative to the world).
        offsets: Bone offset of each joint in its parent's frame (the root's offset is added to its position).
        parents: Parent index of each joint, ``-1`` for a root; any order (sorted internally).
        root_positions: Translation of the root(s) per frame; ``None`` for zero.

    Shape:
        local_rotations: ``(..., V, 3, 3)``; offsets: ``(V, 3)`` or broadcastable ``(..., V, 3)``;
        root_positions: ``(..., 3)``.

    Returns:
        ``(global_rotations (..., V, 3, 3), positions (..., V, 3))``, same kind as ``local_rotations``.
    """
    local_rotations = tensor(local_rotations)
    check_last_dims(local_rotations, (3, 3), "forward_kinematics local_rotations", "(..., V, 3, 3)")
    if local_rotations.dim() < 3:
        raise ShapeError(f"forward_kinematics expects local_rotations (..., V, 3, 3), got {local_rotations.shape}")
    parent_list = [int(p) for p in (parents.tolist() if hasattr(parents, "tolist") else parents)]
    num_joints = local_rotations.shape[-3]
    if len(parent_list) != num_joints:
        raise LayoutError(f"local_rotations have {num_joints} joints but parents list {len(parent_list)} joints")
    offsets_t = as_tensor_like(offsets, local_rotations)
    if offsets_t.dim() < 2 or tuple(offsets_t.shape[-2:]) != (num_joints, 3):
        raise ShapeError(f"offsets must be ({num_joints}, 3) to match local_rotations, got {tuple(offsets_t.shape)}")
    batch_shape = torch.broadcast_shapes(local_rotations.shape[:-3], offsets_t.shape[:-2])
    root = None if root_positions is None else as_tensor_like(root_positions, local_rotations)

    globals_: dict[int, torch.Tensor] = {}
    positions: dict[int, torch.Tensor] = {}
    for joint in topological_order(parent_list):
        parent = parent_list[joint]
        local = local_rotations[..., joint, :, :]
        offset = offsets_t[..., joint, :]
        if parent < 0:
            globals_[joint] = local.expand(*batch_shape, 3, 3)
            position = offset.expand(*batch_shape, 3)
            positions[joint] = position if root is None else position + root
        else:
            parent_rotation = globals_[parent]
            globals_[joint] = parent_rotation @ local
            positions[joint] = positions[parent] + (parent_rotation @ offset.unsqueeze(-1)).squeeze(-1)
    joints = range(num_joints)
    return torch.stack([globals_[j] for j in joints], dim=-3), torch.stack([positions[j] for j in joints], dim=-2)
