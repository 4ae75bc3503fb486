"""Converters between skeleton layouts: ``convert(keypoints, "coco17", "h36m17")``.

A converter maps the joints of one layout to another, on numpy arrays or torch tensors of shape ``(..., V, C)``
(``C`` = 2 or 3 coordinates, plus a trailing confidence channel when ``has_confidence=True``). Registered pairs:

- ``coco17 -> h36m17``: the in-the-wild input of VideoPose3D/GAST-Net (GAST-Net ``tools/mpii_coco_h36m.py``,
  ``coco_h36m``). The twelve limb joints are copied; pelvis, spine, thorax, neck and head are synthesised (see
  :func:`coco17_to_h36m17`).
- ``mediapipe33 -> coco17``, ``openpose18 -> coco17``, ``smpl24 -> amass15``, ``h36m32 -> h36m17``: index
  selection (the last is VideoPose3D's ``remove_joints`` of ``common/h36m_dataset.py``).

Other pairs are composed automatically along the shortest chain of registered converters
(``openpose18 -> coco17 -> h36m17``). User converters are added with :func:`register_converter`.

Missing joints: a joint is missing when one of its coordinates is NaN or, with ``has_confidence``, its
confidence is 0 (or NaN). Copied joints are carried unchanged, confidence included. A synthesised joint gets
the minimum confidence of the joints it is computed from, and is missing (NaN coordinates, confidence 0) as
soon as one of them is.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import numpy as np

from skeletal.errors import ConfigError, ShapeError
from skeletal.skeletons.layouts import AMASS15_SMPL_INDICES
from skeletal.skeletons.skeleton import Skeleton, get

if TYPE_CHECKING:
    import torch
    from typing_extensions import TypeIs

Array = TypeVar("Array", np.ndarray, "torch.Tensor")


def _is_tensor(values: object) -> TypeIs[torch.Tensor]:
    """True for a torch tensor, without importing torch (a tensor exists only once torch is imported)."""
    torch_module = sys.modules.get("torch")
    return torch_module is not None and isinstance(values, torch_module.Tensor)


#: ``fn(points, confidence, **options) -> (points, confidence)`` on ``(..., V, C)`` and ``(..., V)``.
ConverterFunction = Callable[..., tuple[Any, Any]]


@dataclass(frozen=True)
class Converter:
    """A registered conversion from one layout to another.

    Args:
        source: Source layout name.
        target: Target layout name.
        function: ``fn(points, confidence, **options) -> (points, confidence)``; ``points`` is ``(..., V, C)``
            (coordinates only), ``confidence`` is ``(..., V)``, both numpy or both torch.
        options: Keyword options the function accepts (e.g. ``("style",)``).
    """

    source: str
    target: str
    function: ConverterFunction
    options: tuple[str, ...] = ()


_CONVERTERS: dict[tuple[str, str], Converter] = {}


def register_converter(
    source: str | Skeleton,
    target: str | Skeleton,
    function: ConverterFunction | None = None,
    indices: Sequence[int] | None = None,
    options: Sequence[str] = (),
    overwrite: bool = False,
) -> Converter:
    """Register a conversion ``source -> target``, either a function or a pure index selection.

    Args:
        source: Source layout (name or ``Skeleton``; a ``Skeleton`` must be registered to be found by name).
        target: Target layout.
        function: See :class:`Converter`.
        indices: For a selection: ``indices[j]`` is the source joint that becomes target joint ``j``.
        options: Keyword options ``function`` accepts.
        overwrite: Replace an existing converter of the same pair.

    Returns:
        The registered :class:`Converter`.
    """
    src, tgt = get(source), get(target)
    if (function is None) == (indices is None):
        raise ConfigError("register_converter needs exactly one of `function` and `indices`")
    if indices is not None:
        picks = tuple(int(i) for i in indices)
        if len(picks) != tgt.num_joints or not all(0 <= i < src.num_joints for i in picks):
            raise ConfigError(
                f"selection {src.name} -> {tgt.name}: expected {tgt.num_joints} indices in 0..{src.num_joints - 1}, "
                f"received {len(picks)}: {picks}"
            )
        function = _selection(picks)
    if (src.name, tgt.name) in _CONVERTERS and not overwrite:
        raise ConfigError(f"a converter {src.name} -> {tgt.name} is already registered")
    converter = Converter(src.name, tgt.name, function, tuple(options))  # type: ignore[arg-type]
    _CONVERTERS[(src.name, tgt.name)] = converter
    return converter


def converters() -> list[tuple[str, str]]:
    """The registered ``(source, target)`` pairs, sorted."""
    return sorted(_CONVERTERS)


def conversion_path(source: str | Skeleton, target: str | Skeleton) -> list[str]:
    """Shortest chain of layouts from ``source`` to ``target`` through registered converters.

    Returns:
        Layout names, ``[source, ..., target]`` (just ``[source]`` when they are equal).

    Raises:
        ConfigError: No chain of converters links the two layouts.
    """
    src, tgt = get(source).name, get(target).name
    previous: dict[str, str | None] = {src: None}
    queue = deque([src])
    while queue:
        node = queue.popleft()
        if node == tgt:
            path = [node]
            while previous[path[-1]] is not None:
                path.append(previous[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for a, b in sorted(_CONVERTERS):
            if a == node and b not in previous:
                previous[b] = node
                queue.append(b)
    reachable = sorted(set(previous) - {src})
    raise ConfigError(
        f"no converter from layout {src!r} to layout {tgt!r}; from {src!r} one can reach: "
        f"{', '.join(reachable) or 'nothing'} (registered pairs: "
        f"{', '.join(f'{a}->{b}' for a, b in converters())})"
    )


def convert(
    keypoints: Array,
    source: str | Skeleton,
    target: str | Skeleton,
    has_confidence: bool = False,
    **options: Any,
) -> Array:
    """Convert keypoints from one layout to another (composing registered converters when needed).

    Args:
        keypoints: ``(..., V, C)`` numpy array or torch tensor in the ``source`` layout; ``C`` = 2 or 3
            coordinates, or 3 or 4 with ``has_confidence`` (the last channel is the detection confidence).
        source: Layout of ``keypoints`` (name or ``Skeleton``).
        target: Layout wanted.
        has_confidence: Whether the last channel is a confidence score, carried along (see the module doc).
        **options: Options of the converters on the path, e.g. ``style="gast"`` for ``coco17 -> h36m17``.

    Shape:
        ``(..., V_source, C) -> (..., V_target, C)``; same type, device and floating dtype (integers become
        float32).

    Returns:
        The keypoints in the ``target`` layout.

    Raises:
        LayoutError: The joint count of ``keypoints`` does not match ``source``.
        ShapeError: The channel count is not 2 or 3 coordinates (+1 with ``has_confidence``).
        ConfigError: No converter chain links the layouts, or an option no converter on the chain accepts.
    """
    src, tgt = get(source), get(target)
    if not _is_tensor(keypoints):
        keypoints = np.asarray(keypoints)
    if keypoints.ndim < 2:
        raise ShapeError(f"keypoints must be (..., V, C); received shape {tuple(keypoints.shape)}")
    src.check(int(keypoints.shape[-2]), what=f"keypoints for conversion {src.name} -> {tgt.name}")
    channels = int(keypoints.shape[-1])
    expected = (3, 4) if has_confidence else (2, 3)
    if channels not in expected:
        what = "coordinates + confidence" if has_confidence else "coordinates"
        raise ShapeError(f"keypoints must have {expected[0]} or {expected[1]} channels ({what}); received {channels}")
    path = conversion_path(src, tgt)
    steps = [_CONVERTERS[(a, b)] for a, b in zip(path[:-1], path[1:])]
    accepted = {name for step in steps for name in step.options}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ConfigError(
            f"options {unknown} are not accepted by the converters {' -> '.join(path)} (accepted: {sorted(accepted)})"
        )
    if _is_tensor(keypoints):
        import torch

        values = keypoints if keypoints.is_floating_point() else keypoints.to(torch.get_default_dtype())
    else:
        values = keypoints if np.issubdtype(keypoints.dtype, np.floating) else keypoints.astype(np.float32)
    points = values[..., :-1] if has_confidence else values
    confidence = values[..., -1] if has_confidence else None
    for step in steps:
        points, confidence = step.function(
            points, confidence, **{k: v for k, v in options.items() if k in step.options}
        )
    if not has_confidence:
        return points
    if _is_tensor(points):
        import torch

        return torch.cat([points, cast(torch.Tensor, confidence)[..., None]], dim=-1)  # type: ignore[return-value]
    return np.concatenate([points, cast(np.ndarray, confidence)[..., None]], axis=-1)  # type: ignore[return-value]


def _selection(indices: tuple[int, ...]) -> ConverterFunction:
    """A converter that keeps ``indices`` (coordinates and confidences carried unchanged)."""

    def select(points: Any, confidence: Any) -> tuple[Any, Any]:
        picks = list(indices)
        return points[..., picks, :], None if confidence is None else confidence[..., picks]

    return select


def _missing(points: Any, confidence: Any) -> Any:
    """``(..., V)`` boolean: a coordinate is NaN, or the confidence is 0 or NaN."""
    bad = (points != points).any(-1)  # NaN test valid for numpy and torch
    if confidence is not None:
        bad = bad | ~(confidence > 0)
    return bad


def coco17_to_h36m17(
    points: Any, confidence: Any, style: Literal["midpoints", "gast"] = "midpoints"
) -> tuple[Any, Any]:
    """COCO-17 keypoints to the 17 Human3.6M joints of VideoPose3D/GAST-Net.

    Limb joints (shoulders, elbows, wrists, hips, knees, ankles) are copied. With ``nose, eyes, ears``, ``ms``
    the mid-shoulder point and ``mh`` the mid-hip point (axis 1 is the image's vertical axis, pointing down):

    - pelvis = ``mh``; neck = ``nose + (ms - nose) / 4``; head = the mean of eyes and ears, except on axis 1
      where it is ``2 * mean(eyes) - nose`` (the nose mirrored through the eyes). These are GAST-Net's
      ``coco_h36m`` formulas.
    - ``style="midpoints"`` (default): thorax = ``ms``, spine = ``(pelvis + thorax) / 2``.
    - ``style="gast"``: exactly GAST-Net's ``coco_h36m``: thorax = ``ms + (nose - ms) / 3``, lifted on axis 1 by
      ``2/3 (mean(eyes) - nose)``; spine = mean of shoulders and hips, pushed on axis 0 away from the midpoint of
      pelvis and thorax: ``s_0 + 2 (s_0 - (pelvis_0 + thorax_0) / 2)``.

    Args:
        points: ``(..., 17, C)`` COCO-17 coordinates, ``C >= 2``.
        confidence: ``(..., 17)`` or ``None``.
        style: ``"midpoints"`` or ``"gast"`` (see above).

    Returns:
        ``(..., 17, C)`` h36m17 points and ``(..., 17)`` confidences (``None`` if none came in).
    """
    if style not in ("midpoints", "gast"):
        raise ConfigError(f"coco17 -> h36m17: style must be 'midpoints' or 'gast'; received {style!r}")
    is_torch = _is_tensor(points)
    if is_torch:
        import torch
    joint = [points[..., i, :] for i in range(17)]
    nose, left_eye, right_eye, left_ear, right_ear = joint[:5]
    mid_shoulder = (joint[5] + joint[6]) / 2
    mid_hip = (joint[11] + joint[12]) / 2
    eyes = (left_eye + right_eye) / 2
    head = _replace_channel((left_eye + right_eye + left_ear + right_ear) / 4, 1, 2 * eyes[..., 1] - nose[..., 1])
    neck = nose + (mid_shoulder - nose) / 4
    if style == "midpoints":
        thorax = mid_shoulder
        spine = (mid_hip + thorax) / 2
        spine_sources: tuple[int, ...] = (5, 6, 11, 12)
        thorax_sources: tuple[int, ...] = (5, 6)
    else:
        thorax = mid_shoulder + (nose - mid_shoulder) / 3
        spine = (joint[5] + joint[6] + joint[11] + joint[12]) / 4
        spine = _replace_channel(spine, 0, 3 * spine[..., 0] - (mid_hip[..., 0] + thorax[..., 0]))
        thorax = _replace_channel(thorax, 1, thorax[..., 1] - (eyes[..., 1] - nose[..., 1]) * 2 / 3)
        spine_sources, thorax_sources = (0, 5, 6, 11, 12), (0, 1, 2, 5, 6)
    # Synthesised h36m17 joint -> (value, COCO joints it comes from).
    synthesised = {
        0: (mid_hip, (11, 12)),
        7: (spine, spine_sources),
        8: (thorax, thorax_sources),
        9: (neck, (0, 5, 6)),
        10: (head, (0, 1, 2, 3, 4)),
    }
    # Copied h36m17 joint -> COCO joint (GAST-Net's h36m_coco_order / coco_order).
    copied = {1: 12, 2: 14, 3: 16, 4: 11, 5: 13, 6: 15, 11: 5, 12: 7, 13: 9, 14: 6, 15: 8, 16: 10}
    missing = _missing(points, confidence)
    out_points, out_confidence = [], []
    for j in range(17):
        if j in copied:
            out_points.append(joint[copied[j]])
            if confidence is not None:
                out_confidence.append(confidence[..., copied[j]])
            continue
        value, sources = synthesised[j]
        gone = missing[..., sources[0]]
        for i in sources[1:]:
            gone = gone | missing[..., i]
        out_points.append(_where(gone[..., None], float("nan"), value))
        if confidence is not None:
            lowest = confidence[..., sources[0]]
            for i in sources[1:]:
                lowest = (
                    torch.minimum(lowest, confidence[..., i]) if is_torch else np.minimum(lowest, confidence[..., i])
                )
            out_confidence.append(_where(gone, 0.0, lowest))
    if is_torch:
        result = torch.stack(out_points, dim=-2)
        return result, None if confidence is None else torch.stack(out_confidence, dim=-1)
    array_result = np.stack(out_points, axis=-2)
    return array_result, None if confidence is None else np.stack(out_confidence, axis=-1)


def _replace_channel(values: Any, channel: int, replacement: Any) -> Any:
    """Copy of ``values`` (..., C) with channel ``channel`` set to ``replacement`` (...) (no in-place writes)."""
    parts = [replacement if c == channel else values[..., c] for c in range(values.shape[-1])]
    if _is_tensor(values):
        import torch

        return torch.stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def _where(condition: Any, fill: float, values: Any) -> Any:
    """``values`` where ``condition`` is false, ``fill`` elsewhere (broadcasting), numpy or torch."""
    if _is_tensor(values):
        import torch

        return torch.where(condition, torch.full_like(values, fill), values)
    return np.where(condition, np.asarray(fill, dtype=values.dtype), values)


register_converter("coco17", "h36m17", coco17_to_h36m17, options=("style",))
# MediaPipe landmark of each COCO joint: nose, eyes (the pupils, not inner/outer corners), ears, limbs.
register_converter("mediapipe33", "coco17", indices=(0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28))
# OpenPose COCO-18 joint of each COCO joint (OpenPose's extra joint, the neck, is dropped).
register_converter("openpose18", "coco17", indices=(0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10))
register_converter("smpl24", "amass15", indices=AMASS15_SMPL_INDICES)
# VideoPose3D keeps these 17 of the 32 Human3.6M joints (common/h36m_dataset.py, remove_joints).
register_converter("h36m32", "h36m17", indices=(0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27))
