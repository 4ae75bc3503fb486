"""The :class:`Skeleton` layout and the registry of built-in layouts.

A skeleton is data, never a constant: models, transforms, metrics and plots take a ``Skeleton`` (or its
registry name) and check the joint count of their input against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike

from skeletal.errors import ConfigError, LayoutError


@dataclass(frozen=True)
class Skeleton:
    """A skeleton layout: the joints, their kinematic tree and their left/right symmetry.

    Args:
        name: Registry name (``"ntu25"``).
        joint_names: One name per joint, in the order of the data.
        parents: Parent index of every joint, ``-1`` for the root. The tree defines ``edges`` and ``bones``.
        left: Joints of the left side, paired index by index with ``right`` (used by flips).
        right: Joints of the right side.
        center: Graph centre, the joint from which ST-GCN's spatial partition measures distances.
        origin: Joint on which coordinates are centred (pelvis, spine middle); defaults to the root.
        offsets: Optional rest-pose bone offsets ``(V, 3)``, each joint relative to its parent, for forward
            kinematics (units as the source states, see ``units``).
        units: Units of ``offsets``.
        source: Where the layout comes from (dataset, paper or official code).
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    left: tuple[int, ...] = ()
    right: tuple[int, ...] = ()
    center: int = 0
    origin: int | None = None
    offsets: tuple[tuple[float, float, float], ...] | None = None
    units: str = ""
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "joint_names", tuple(self.joint_names))
        object.__setattr__(self, "parents", tuple(int(p) for p in self.parents))
        object.__setattr__(self, "left", tuple(int(i) for i in self.left))
        object.__setattr__(self, "right", tuple(int(i) for i in self.right))
        if self.offsets is not None:
            object.__setattr__(self, "offsets", tuple(tuple(float(c) for c in row) for row in self.offsets))
        num = len(self.joint_names)
        if len(self.parents) != num:
            raise ConfigError(f"skeleton {self.name!r}: {num} joint names but {len(self.parents)} parents")
        if len(set(self.joint_names)) != num:
            raise ConfigError(f"skeleton {self.name!r}: joint names are not unique")
        roots = [i for i, p in enumerate(self.parents) if p < 0]
        if len(roots) != 1:
            raise ConfigError(f"skeleton {self.name!r}: expected exactly one root (parent -1), found {roots}")
        for joint, parent in enumerate(self.parents):
            if parent >= num:
                raise ConfigError(f"skeleton {self.name!r}: joint {joint} has parent {parent} out of range")
        for joint in range(num):  # every joint must reach the root: no cycles
            seen, node = 0, joint
            while node >= 0:
                node, seen = self.parents[node], seen + 1
                if seen > num:
                    raise ConfigError(f"skeleton {self.name!r}: the parents contain a cycle through joint {joint}")
        if len(self.left) != len(self.right):
            raise ConfigError(f"skeleton {self.name!r}: {len(self.left)} left joints but {len(self.right)} right")
        if set(self.left) & set(self.right):
            raise ConfigError(f"skeleton {self.name!r}: a joint cannot be both left and right")
        for index in (*self.left, *self.right, self.center):
            if not 0 <= index < num:
                raise ConfigError(f"skeleton {self.name!r}: joint index {index} out of range 0..{num - 1}")
        if self.origin is not None and not 0 <= self.origin < num:
            raise ConfigError(f"skeleton {self.name!r}: origin {self.origin} out of range")
        if self.offsets is not None and (len(self.offsets) != num or any(len(o) != 3 for o in self.offsets)):
            raise ConfigError(f"skeleton {self.name!r}: offsets must have shape ({num}, 3)")

    @property
    def num_joints(self) -> int:
        """Number of joints ``V``."""
        return len(self.joint_names)

    @property
    def names(self) -> tuple[str, ...]:
        """Alias of ``joint_names``."""
        return self.joint_names

    @property
    def root(self) -> int:
        """Index of the root joint (parent ``-1``)."""
        return self.parents.index(-1)

    @property
    def coordinate_origin(self) -> int:
        """Joint on which coordinates are centred: ``origin`` if set, else the root."""
        return self.root if self.origin is None else self.origin

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        """Undirected links of the tree as ``(child, parent)`` pairs, ``V - 1`` of them."""
        return tuple((j, p) for j, p in enumerate(self.parents) if p >= 0)

    @property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """Bone vectors ``joint - parent`` as ``(joint, parent)`` pairs, the root excluded.

        The bone stream of 2s-AGCN gives every joint its bone; the root's bone is zero.
        """
        return self.edges

    @property
    def children(self) -> tuple[tuple[int, ...], ...]:
        """Children of every joint."""
        kids: list[list[int]] = [[] for _ in range(self.num_joints)]
        for joint, parent in self.edges:
            kids[parent].append(joint)
        return tuple(tuple(k) for k in kids)

    @property
    def flip_permutation(self) -> tuple[int, ...]:
        """Index permutation that swaps every left joint with its right partner (an involution)."""
        perm = list(range(self.num_joints))
        for lft, rgt in zip(self.left, self.right):
            perm[lft], perm[rgt] = rgt, lft
        return tuple(perm)

    def index(self, joint_name: str) -> int:
        """Index of a joint by name."""
        try:
            return self.joint_names.index(joint_name)
        except ValueError:
            raise LayoutError(f"skeleton {self.name!r} has no joint named {joint_name!r}") from None

    def check(self, num_joints: int, what: str = "input") -> None:
        """Raise :class:`LayoutError` unless ``num_joints`` matches this layout.

        Args:
            num_joints: The joint count found in the data.
            what: What carried that count, for the message (``"input of s-tr"``, a file name).
        """
        if num_joints != self.num_joints:
            guesses = [s.name for s in _REGISTRY.values() if s.num_joints == num_joints]
            hint = f" (layouts with {num_joints} joints: {', '.join(guesses)})" if guesses else ""
            raise LayoutError(f"{what} has {num_joints} joints but layout {self.name!r} has {self.num_joints}{hint}")

    def __repr__(self) -> str:
        return f"Skeleton({self.name!r}, num_joints={self.num_joints})"


_REGISTRY: dict[str, Skeleton] = {}


def register(skeleton: Skeleton, overwrite: bool = False) -> Skeleton:
    """Add a layout to the registry so that ``get(name)`` and every ``skeleton=`` argument find it."""
    if skeleton.name in _REGISTRY and not overwrite:
        raise ConfigError(f"a skeleton named {skeleton.name!r} is already registered")
    _REGISTRY[skeleton.name] = skeleton
    return skeleton


def get(name: str | PathLike[str] | Skeleton) -> Skeleton:
    """Return a registered layout by name, or the layout of a ``.yaml``/``.json`` layout file (read and registered,
    see :mod:`skeletal.skeletons.layout_file`); a ``Skeleton`` is returned unchanged."""
    if isinstance(name, Skeleton):
        return name
    if isinstance(name, str) and name in _REGISTRY:
        return _REGISTRY[name]
    from skeletal.skeletons.layout_file import get_layout_file, is_layout_file

    if is_layout_file(name):
        return get_layout_file(name)
    from skeletal.errors import did_you_mean

    hint = did_you_mean(str(name), names())
    raise ConfigError(f"unknown skeleton layout {name!r}{hint} (known layouts: {', '.join(names())}; or a layout "
                      "file .yaml/.json)")  # fmt: skip


def names() -> list[str]:
    """Names of the registered layouts, sorted."""
    return sorted(_REGISTRY)


def from_edges(
    name: str,
    joint_names: Sequence[str],
    edges: Sequence[tuple[int, int]],
    root: int,
    **kwargs: object,
) -> Skeleton:
    """Build a skeleton from undirected ``edges`` and a root, orienting the tree away from the root."""
    num = len(joint_names)
    neighbours: list[list[int]] = [[] for _ in range(num)]
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    parents = [-2] * num
    parents[root] = -1
    stack = [root]
    while stack:
        node = stack.pop()
        for nxt in neighbours[node]:
            if parents[nxt] == -2:
                parents[nxt] = node
                stack.append(nxt)
    if -2 in parents:
        raise ConfigError(f"skeleton {name!r}: joints {[i for i, p in enumerate(parents) if p == -2]} are unconnected")
    return Skeleton(name=name, joint_names=tuple(joint_names), parents=tuple(parents), **kwargs)  # type: ignore[arg-type]
