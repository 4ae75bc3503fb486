"""``skeletal predict CHECKPOINT SEED --seconds S``: generate seconds of motion from a seed, write an ``.npz`` and an
animation of the prediction beside the ground truth.

A seed is one of:

- an ``.npz`` with ``rotations`` ``(T, V, 3, 3)`` (local, column convention) or ``(T, V, F)`` in the model's
  representation, optional ``fps`` and ``layout`` (checked against the model's);
- a ``.bvh`` file: used only if its joints are the model's layout (same names in the same order), otherwise a
  :class:`~skeletal.errors.LayoutError` names both;
- a dataset sample ``cmu:SPLIT/ACTION/FILE.txt`` of the CMU benchmark (root: ``data_root``, else
  ``$SKELETAL_CMU_ROOT``, else ``../shared/data/cmu-mocap-expmap`` from the working directory or the repository),
  downsampled by 2 to 60 fps as the benchmark; the frames after the seed are the ground truth.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from skeletal.atomic import save_npz
from skeletal.errors import ConfigError, DataError, LayoutError
from skeletal.evaluation.prediction import rollout_windows, to_matrices
from skeletal.geometry import convert_rotations, forward_kinematics
from skeletal.skeletons import Skeleton


@dataclass
class Seed:
    """Local rotations ``(T, V, 3, 3)`` of a seed and, if known, the frames that follow it."""

    rotations: np.ndarray
    fps: float
    source: str
    future: np.ndarray | None = None
    meta: dict[str, str] = field(default_factory=dict)


@dataclass
class ForecastResult:
    """What :func:`forecast` wrote: the ``.npz`` and the animation (``None`` without FK offsets)."""

    npz: Path
    animation: Path | None
    rotations: np.ndarray
    positions: np.ndarray | None


def _cmu_root(data_root: str | Path | None, spec: str = "cmu:") -> Path:
    candidates = [data_root, os.environ.get("SKELETAL_CMU_ROOT")]
    candidates += [Path.cwd().parent / "shared/data/cmu-mocap-expmap"]
    candidates += [Path(__file__).resolve().parents[4] / "shared/data/cmu-mocap-expmap"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise DataError("cannot find the CMU benchmark folder (cmu-mocap-expmap, with train/ and test/): set "
                    "SKELETAL_CMU_ROOT=FOLDER (data_root= in Python)", spec)  # fmt: skip


def _models_for(layout: str) -> str:
    """``"; use pretrained:A or pretrained:B"`` for the shipped prediction models on ``layout`` (or nothing)."""
    from skeletal import pretrained

    names = [f"pretrained:{n}" for n in pretrained.names("prediction") if pretrained.get(n).layout == layout]
    return f"; use a model on {layout!r}, e.g. {' or '.join(names)}" if names else ""


def read_seed(
    spec: str, skeleton: Skeleton, data_root: str | Path | None = None, representation: str = "matrix"
) -> Seed:
    """Read a seed (see the module docstring) for a model on ``skeleton``."""
    if spec.startswith("cmu:"):
        from skeletal.data.cmu import expmap_to_rotations, read_expmap

        if skeleton.name != "cmu38":
            raise LayoutError(
                f"a cmu: sample is on layout 'cmu38'; the model expects {skeleton.name!r}{_models_for('cmu38')}"
            )
        frames = read_expmap(_cmu_root(data_root, spec) / spec[4:])[::2]
        return Seed(np.asarray(expmap_to_rotations(frames)), 60.0, spec, meta={"dataset": "cmu"})
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"seed {spec} does not exist (expected .npz, .bvh or cmu:SPLIT/ACTION/FILE.txt)")
    if path.suffix.lower() == ".bvh":
        from skeletal.data.bvh import read_bvh

        motion = read_bvh(path)
        if tuple(motion.skeleton.names) != tuple(skeleton.names):
            raise LayoutError(
                f"{path}: BVH joints ({motion.skeleton.num_joints}: {', '.join(motion.skeleton.names[:4])}, ...) are "
                f"not the model's layout {skeleton.name!r} "
                f"({skeleton.num_joints}: {', '.join(skeleton.names[:4])}, ...)"
            )
        assert motion.rotations is not None
        return Seed(np.asarray(motion.rotations), float(motion.fps), str(path))
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "rotations" not in archive.files:
                if "poses_3d" in archive.files:  # skeletal lift's output
                    raise DataError("holds 3D joint positions (poses_3d, skeletal lift's output); a forecast seed is "
                                    "joint rotations: an .npz with 'rotations', a .bvh or cmu:SPLIT/ACTION/FILE.txt",
                                    path)  # fmt: skip
                raise DataError(f"expected key 'rotations'; found {archive.files}", path)
            rotations = np.asarray(archive["rotations"], dtype=np.float64)
            fps = float(archive["fps"]) if "fps" in archive.files else 25.0
            layout = str(archive["layout"]) if "layout" in archive.files else ""
    except (ValueError, OSError, EOFError) as error:
        raise DataError(f"not a readable .npz ({error})", path) from None
    if layout and layout != skeleton.name:
        raise LayoutError(f"{path}: seed layout {layout!r}, the model expects {skeleton.name!r}{_models_for(layout)}")
    if rotations.ndim == 3:
        rotations = to_matrices(rotations, representation)
    if rotations.ndim != 4 or rotations.shape[1:] != (skeleton.num_joints, 3, 3):
        raise LayoutError(
            f"{path}: expected rotations (T, {skeleton.num_joints}, 3, 3) of layout {skeleton.name!r}, got "
            f"{rotations.shape}"
        )
    return Seed(rotations, fps, str(path))


def positions_of(rotations: np.ndarray, skeleton: Skeleton, chunk: int = 1024) -> np.ndarray | None:
    """Joint positions ``(T, V, 3)`` by forward kinematics (root at the origin), ``chunk`` frames at a time (the
    global rotations of a 600 s forecast at once took 86 MB), ``None`` if the layout has no offsets."""
    if skeleton.offsets is None:
        return None
    offsets = np.asarray(skeleton.offsets, dtype=np.float64)
    positions = np.empty((*rotations.shape[:-2], 3))
    for start in range(0, len(rotations), chunk):
        _, part = forward_kinematics(rotations[start : start + chunk], offsets, skeleton.parents)
        positions[start : start + chunk] = np.asarray(part)
    return positions


def forecast(
    model: nn.Module | str | Path,
    seed: str,
    seconds: float,
    out_dir: str | Path,
    seed_frames: int | None = None,
    data_root: str | Path | None = None,
    render_every: int | None = None,
    max_rendered: int = 300,
    animation: str = "gif",
    precision: str = "fp32",
) -> ForecastResult:
    """Generate ``seconds`` of motion after a seed; write ``prediction.npz`` and ``prediction.gif`` (or ``.mp4``).

    Args:
        model: A prediction model or its model file.
        seed: See the module docstring.
        seconds: Horizon in seconds (at the seed's frame rate).
        out_dir: Output folder.
        seed_frames: Frames of the seed used (its first ones; default: the model's ``window``, at most the seed).
        data_root: Root of the dataset of a ``cmu:`` seed.
        render_every: Render every k-th frame (default: enough to keep at most ``max_rendered`` frames).
        max_rendered: Cap on rendered frames when ``render_every`` is not given.
        animation: ``"gif"``, ``"mp4"`` (needs ffmpeg; falls back to GIF if absent) or ``"none"``.
        precision: ``"fp32"`` or ``"bf16"`` inference (:func:`skeletal.inference.precision.set_precision`; refused
            before any file is read where the CPU lacks bfloat16); the frames fed back stay float32.

    Returns:
        The files and arrays. The npz holds ``seed_rotations``, ``rotations`` (generated, ``(S fps, V, 3, 3)``),
        ``positions`` (seed + generated, FK with the root at the origin, the layout's units), ``ground_truth``
        rotations/positions where the seed continues, ``fps``, ``layout`` and ``metadata`` (JSON).
    """
    from skeletal import checkpoint
    from skeletal.inference.precision import resolve_precision, set_precision

    precision = resolve_precision(precision)
    if not isinstance(model, nn.Module):
        model = checkpoint.load(model)
    if precision != "fp32":
        model = set_precision(model, precision)
    skeleton: Skeleton = model.skeleton  # type: ignore[assignment]
    representation = str(getattr(model, "representation", "matrix"))
    data = read_seed(seed, skeleton, data_root, representation)
    length = min(seed_frames or int(getattr(model, "window", len(data.rotations))), len(data.rotations))
    if seconds <= 0:
        raise ConfigError(f"seconds must be positive, got {seconds}")
    num_frames = int(round(seconds * data.fps))
    seed_rotations, future = data.rotations[:length], data.rotations[length : length + num_frames]
    seed_input = np.asarray(convert_rotations(seed_rotations, "matrix", representation, flat_matrix=True))
    with torch.no_grad():
        generated = rollout_windows(model, seed_input[None].astype(np.float32), num_frames, representation)[0]
    # float32 from here on, as saved (the float64 copies of a 600 s forecast held 120 MB)
    rotations = to_matrices(generated, representation).astype(np.float32)
    del generated
    seed_rotations = seed_rotations.astype(np.float32)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    positions = positions_of(np.concatenate([seed_rotations, rotations]), skeleton)
    arrays: dict[str, np.ndarray] = {
        "seed_rotations": seed_rotations,
        "rotations": rotations,
        "fps": np.asarray(data.fps),
        "layout": np.asarray(skeleton.name),
    }
    truth_positions = None
    if len(future):
        arrays["ground_truth"] = future.astype(np.float32)
        truth_positions = positions_of(np.concatenate([seed_rotations, future]), skeleton)
    if positions is not None:
        positions = positions.astype(np.float32)
        arrays["positions"] = positions
    if truth_positions is not None:
        arrays["ground_truth_positions"] = truth_positions.astype(np.float32)
    meta = {"seed": data.source, "seed_frames": length, "generated_frames": num_frames, "fps": data.fps,
            "layout": skeleton.name, "representation": representation, "model": type(model).__name__,
            "precision": precision}  # fmt: skip
    arrays["metadata"] = np.asarray(json.dumps(meta))
    npz = out_dir / "prediction.npz"
    save_npz(npz, **arrays)
    written = None
    if animation != "none" and positions is not None:
        from skeletal.viz.animation import Panel, animate, ffmpeg_available

        suffix = ".mp4" if animation == "mp4" and ffmpeg_available() else ".gif"
        every = render_every or max(1, -(-len(positions) // max_rendered))
        panels = [Panel(positions, "prediction", "3d", "C0")]
        if truth_positions is not None:
            panels.append(Panel(truth_positions, "ground truth", "3d", "C2"))
        written = animate(panels, skeleton, out_dir / f"prediction{suffix}", fps=data.fps, every=every)
    return ForecastResult(npz, written, rotations, positions)
