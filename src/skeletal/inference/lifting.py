"""From a user's 2D keypoints (or video) to 3D poses: the pipeline behind ``skeletal lift``.

Steps of :func:`lift_keypoints`, for every track (person) of a :class:`~skeletal.data.types.Keypoints`:

1. **Layout.** The keypoints are converted to the model's layout (``coco17 -> h36m17`` for GAST-Net, see
   :func:`skeletal.skeletons.convert`), confidences kept; a synthesised joint is missing when one of its sources is.
2. **Missing joints** (score 0, NaN, or ``(-1, -1)``/``(0, 0)`` with score 0, as the readers mark them; scores at or
   below ``min_score``) are repaired by :func:`~skeletal.data.repair.repair_keypoints`: gaps of at most ``max_gap``
   frames are interpolated linearly across time (held at the sequence ends); longer gaps are filled the same way but the
   joints are reported as *unreliable* (``joint_reliable`` false, listed in the metadata) rather than passed as
   reliable. Frames before the first and after the last frame in which the track has at least half of its joints
   are outside the track: no pose (NaN).
3. **Screen coordinates.** Pixels -> ``x / w * 2 - [1, h / w]`` with the image size of the file, or given, or
   estimated from the keypoint extent (``w = x_min + x_max``, ``h = y_min + y_max``: the keypoints' bounding box
   centred in the image), which the metadata says.
4. **Lifting.** Layer by layer (:func:`lift_sequence`: edges padded, one pose per frame, long sequences in
   chunks), optionally averaged with the flipped prediction, causal models included; with ``streaming``, a causal
   model runs frame by frame through :class:`~skeletal.inference.streaming.StreamingLifter` as live input would,
   and the latency per frame is recorded.
5. **Output.** Root-relative 3D joints in metres, in the camera frame (``x`` right, ``y`` down, ``z`` forward),
   with the metadata stated in :meth:`Lifted3D.save`'s npz.

Example:
    >>> lifted = lift_file("baseball.json", checkpoint="benchmarks/results/gast-net-27_cmu.safetensors")
    >>> lifted.save("out/baseball_3d.npz"); lifted.animate("out/baseball_3d.gif")
"""

from __future__ import annotations

import time
import warnings
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from skeletal.data.repair import estimate_image_size, repair_keypoints
from skeletal.data.types import Keypoints
from skeletal.errors import ConfigError, DataError
from skeletal.inference.lifted import CAMERA_FRAME, Lifted3D
from skeletal.machine import release_free_memory
from skeletal.skeletons import Skeleton, convert, get

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
DEFAULT_FPS = 30.0
RANDOM_WEIGHTS_WARNING = (
    "\n" + "!" * 100 + "\n!!  {name} has RANDOM weights: the 3D poses below are MEANINGLESS.\n!!  No pretrained "
    "weights can be downloaded; train one (e.g. python benchmarks/cmu_lifting.py, or skeletal train\n!!  "
    "configs/lifting/gast-net_27_cmu.yaml) and pass --checkpoint model.safetensors.\n" + "!" * 100
)


def weights_checksum(model: nn.Module) -> str:
    """SHA-256 of the model's tensors (the model file's checksum when it came from one)."""
    from skeletal.checkpoint.format import _state_tensors, tensor_checksum

    stored = getattr(getattr(model, "skeletal_info", None), "tensors_sha256", None)
    if stored:
        return str(stored)
    return tensor_checksum(_state_tensors(model))


def load_lifter(
    checkpoint: str | PathLike[str] | None = None,
    model_name: str | None = None,
    causal: bool = False,
    precision: str = "fp32",
) -> tuple[nn.Module, dict[str, Any]]:
    """A lifting model from a model file, or a registered one with random weights (loud warning).

    Args:
        checkpoint: ``.safetensors`` written by ``skeletal train`` (a lifting model).
        model_name: Registered lifter (``gast-net-27``...) when no checkpoint is given: RANDOM weights.
        causal: Require (checkpoint) or build (registry) a causal model.
        precision: ``"fp32"`` or ``"bf16"`` (:func:`skeletal.inference.precision.set_precision`; refused where the
            CPU lacks bfloat16). Measured on the CMU-trained GAST-Net: +0.03 mm MPJPE, 1.5x faster.

    Returns:
        ``(model, description)`` with the model in eval mode.
    """
    from skeletal import checkpoint as model_files
    from skeletal import models
    from skeletal.inference.precision import resolve_precision, set_precision

    precision = resolve_precision(precision)  # refused before any file is read
    if checkpoint is not None:
        model = set_precision(model_files.load(Path(checkpoint)), precision)
        info: Any = getattr(model, "skeletal_info")  # noqa: B009
        if info.task != "lifting":
            raise ConfigError(f"{checkpoint} holds a {info.task or 'non-lifting'} model ({info.model_name}); "
                              f"skeletal lift needs a lifting model")  # fmt: skip
        if causal and not getattr(model, "causal", False):
            raise ConfigError(f"{checkpoint} holds a symmetric model; --causal needs one trained with "
                              f"model.kwargs.causal=true")  # fmt: skip
        described = {"name": info.model_name, "kwargs": info.model_kwargs, "checkpoint": str(checkpoint),
                     "trained": True, "training_metrics": info.metrics, "precision": precision}  # fmt: skip
        return model.eval(), described
    name = model_name or "gast-net-27"
    if name not in models.names("lifting"):
        from skeletal.errors import did_you_mean

        hint = did_you_mean(name, models.names("lifting"))
        raise ConfigError(f"--model: unknown lifting model {name!r}{hint}; lifting models: "
                          f"{', '.join(models.names('lifting'))}")  # fmt: skip
    model = set_precision(models.create(name, causal=causal), precision)
    warnings.warn(RANDOM_WEIGHTS_WARNING.format(name=name), UserWarning, stacklevel=2)
    return model.eval(), {"name": name, "kwargs": {"causal": causal}, "checkpoint": None, "trained": False,
                          "precision": precision}  # fmt: skip


def _as_keypoints(keypoints: Keypoints | np.ndarray, layout: str | Skeleton | None) -> Keypoints:
    if isinstance(keypoints, Keypoints):
        return keypoints
    array = np.asarray(keypoints, dtype=np.float32)  # as the readers give them
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] not in (2, 3):
        raise DataError(f"keypoints must be (T, V, 2|3) or (M, T, V, 2|3), got shape {np.shape(keypoints)}")
    skeleton = get(layout or "coco17")
    points = array[..., :2].copy()
    scores = array[..., 2].copy() if array.shape[-1] == 3 else np.isfinite(points).all(-1).astype(np.float32)
    missing = ~np.isfinite(points).all(-1) | ~(scores > 0)
    points[missing], scores[missing] = np.nan, 0.0
    return Keypoints(skeleton, points, scores)


def _ranges(indices: np.ndarray) -> list[list[int]]:
    """``[first, last]`` of the runs of consecutive integers."""
    runs: list[list[int]] = []
    for index in indices.tolist():
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return runs


CHUNK_FRAMES = 256
"""Output frames lifted per forward pass by :func:`lift_sequence` (bounds the memory of long sequences: the
shipped GAST-Net's activations for 1,024 frames took 640 MB of peak memory over the 324 MB of the loaded model,
for 256 frames 350 MB, at the same speed; each chunk recomputes ``RF - 1`` frames of context)."""


@torch.inference_mode()
def lift_sequence(model: nn.Module, screen: np.ndarray, flip: bool = False, chunk: int = CHUNK_FRAMES) -> np.ndarray:
    """One 3D pose per frame of a ``(T, V, 2)`` sequence, layer by layer, in chunks of ``chunk`` output frames.

    The sequence is padded as :meth:`~skeletal.models.lifting.temporal.TemporalLifter.lift` pads it (the first
    frame repeated ``RF - 1`` times before it for a causal model, ``RF // 2`` on both sides for a symmetric one),
    and each chunk gets the ``RF - 1`` frames of context it needs, so the result equals ``model.lift`` of the whole
    sequence, and for a causal model the frame-by-frame :class:`~skeletal.inference.streaming.StreamingLifter`
    (to float precision), at the speed of batched convolutions (see ``benchmarks/bench_causal_offline.py``).

    Args:
        model: A temporal lifter (``padding()``, ``strided``); other lifters go through ``model.lift`` whole.
        screen: ``(T, V, 2)`` normalised screen coordinates.
        flip: Average with the prediction of the mirrored input (in the same batch).
        chunk: Output frames per forward pass.

    Returns:
        ``(T, V, 3)`` float32.
    """
    with torch.inference_mode():  # no autograd graph: it kept every chunk's activations (+670 MB at 100k frames)
        return _lift_chunks(model, torch.as_tensor(screen, dtype=torch.float32)[None], flip, chunk)


def _lift_chunks(model: nn.Module, x: torch.Tensor, flip: bool, chunk: int) -> np.ndarray:
    from skeletal.models.lifting import predict_with_flip
    from skeletal.models.lifting.flip import flip_horizontal

    if not hasattr(model, "padding"):
        output = predict_with_flip(model, x, padded=True) if flip else model.lift(x)  # type: ignore[operator]
        return output[0].numpy()
    before, after = model.padding()  # type: ignore[operator]
    frames, layout = x.shape[1], get(model.skeleton)  # type: ignore[arg-type]
    strided = model.strided
    model.strided = False  # type: ignore[assignment]  # layer by layer: one output per input window
    result = np.empty((frames, x.shape[2], 3), dtype=np.float32)  # written chunk by chunk: no list, no copy
    try:
        for start in range(0, frames, chunk):
            stop = min(frames, start + chunk)
            # input frames start - before ... stop + after, the sequence's edge frames repeated beyond its ends
            index = torch.arange(start - before, stop + after).clamp_(0, frames - 1)
            window = x[:, index]
            batch = torch.cat([window, flip_horizontal(window, layout)]) if flip else window
            output = model(batch)
            result[start:stop] = ((output[0] + flip_horizontal(output[1], layout)) / 2 if flip else output[0]).numpy()
            del output, batch, window
            release_free_memory()
    finally:
        model.strided = strided
    return result


@torch.inference_mode()
def _lift_track(
    model: nn.Module, screen: np.ndarray, flip: bool, streaming: bool = False
) -> tuple[np.ndarray, float | None]:
    """Offline (layer by layer, :func:`lift_sequence`) or, with ``streaming`` and a causal model, frame by frame
    as live input would be (the latency per frame is returned)."""
    if streaming and getattr(model, "causal", False):
        from skeletal.inference.streaming import StreamingLifter

        lifter = StreamingLifter(model, flip=flip)  # type: ignore[arg-type]
        start = time.perf_counter()
        poses = lifter.run(screen).numpy()
        return poses, (time.perf_counter() - start) / len(screen) * 1000
    return lift_sequence(model, screen, flip), None


def lift_keypoints(
    keypoints: Keypoints | np.ndarray,
    model: nn.Module,
    *,
    layout: str | Skeleton | None = None,
    image_size: tuple[int, int] | None = None,
    fps: float | None = None,
    flip: bool = False,
    max_gap: int = 10,
    min_score: float = 0.0,
    style: str = "midpoints",
    model_description: dict[str, Any] | None = None,
    streaming: bool = False,
) -> Lifted3D:
    """Lift 2D keypoints (pixels) of one or several tracks to root-relative 3D poses.

    Args:
        keypoints: A :class:`Keypoints` (from :func:`skeletal.data.keypoints.read_keypoints`) or an array
            ``(T, V, 2|3)`` / ``(M, T, V, 2|3)`` in pixels (third channel: confidence) in ``layout``.
        model: A lifter (``model.lift``, ``model.skeleton``), e.g. from :func:`load_lifter`.
        layout: Layout of an array input (default ``coco17``).
        image_size: ``(width, height)`` in pixels; default the file's, else estimated (see the module doc).
        fps: Frame rate; default the file's, else :data:`DEFAULT_FPS` (recorded as assumed).
        flip: Average with the prediction of the mirrored input.
        max_gap: Longest gap of a missing joint (frames) interpolated as reliable.
        min_score: Confidences at or below it count as missing.
        style: ``coco17 -> h36m17`` conversion style (``"midpoints"`` or ``"gast"``).
        model_description: Name, checkpoint... of the model, for the metadata (from :func:`load_lifter`).
        streaming: Causal model: run frame by frame as on live input and record the latency per frame (default:
            layer by layer, the same poses many times faster).

    Returns:
        A :class:`Lifted3D` (poses ``(M, T, V, 3)``, metres, root-relative, camera frame).
    """
    data = _as_keypoints(keypoints, layout)
    target = get(model.skeleton)  # type: ignore[arg-type]
    if data.normalized:
        raise DataError("skeletal lift expects pixel keypoints; these are already screen-normalised", data.source)
    # float32 throughout, as the readers give them (the poses are float32): float64 copies of a 100,000-frame
    # track cost ~240 MB
    points, scores = data.points.astype(np.float32, copy=False), data.scores.astype(np.float32, copy=False)
    if not ((scores > 0) & np.isfinite(points).all(-1)).any():
        raise DataError("no keypoint in any frame (every point is NaN or has score 0): nothing to lift",
                        data.source or None)  # fmt: skip
    if data.skeleton.name != target.name:
        stacked = np.concatenate([points, scores[..., None]], axis=-1)
        options = {"style": style} if (data.skeleton.name, target.name) == ("coco17", "h36m17") else {}
        converted = convert(stacked, data.skeleton, target, has_confidence=True, **options)
        del stacked
        points, scores = converted[..., :2], converted[..., 2]
    scores = np.where(np.isfinite(points).all(-1), np.nan_to_num(scores), np.float32(0))
    if image_size is not None:
        size, size_source = (int(image_size[0]), int(image_size[1])), "given"
    elif data.image_size is not None:
        size, size_source = (int(data.image_size[0]), int(data.image_size[1])), "file"
    else:
        size, size_source = estimate_image_size(points), "estimated from the keypoint extent (unknown image size)"
    rate, rate_source = (fps, "given") if fps else ((data.fps, "file") if data.fps else (DEFAULT_FPS, "assumed"))
    tracks, frames, joints = points.shape[:3]
    poses = np.full((tracks, frames, joints, 3), np.nan, dtype=np.float32)
    repaired_points = np.full((tracks, frames, joints, 2), np.nan, dtype=np.float32)
    joint_reliable = np.zeros((tracks, frames, joints), dtype=bool)
    report, latencies = [], []
    model.eval()
    for track in range(tracks):
        seen = (np.isfinite(points[track]).all(-1) & (scores[track] > min_score)).sum(-1) >= (joints + 1) // 2
        if not seen.any():
            report.append({"track": track, "frames": [], "skipped": "never has half of its joints"})
            continue
        first, last = np.flatnonzero(seen)[[0, -1]]
        span = slice(first, last + 1)
        fixed = repair_keypoints(points[track, span], scores[track, span], max_gap, min_score)
        repaired_points[track, span] = fixed.points
        fixed.points = repaired_points[track, span]  # a view: the repaired track is not held twice
        offset = np.array([1, size[1] / size[0]], dtype=np.float32)
        screen = repaired_points[track, span] * np.float32(2 / size[0]) - offset
        lifted, latency = _lift_track(model, screen, flip, streaming)
        del screen
        lifted -= lifted[:, target.root : target.root + 1].copy()
        poses[track, span] = lifted
        del lifted
        joint_reliable[track, span] = ~fixed.unreliable
        if latency is not None:
            latencies.append(latency)
        bad = np.flatnonzero(fixed.unreliable.any(-1)) + first
        report.append({
            "track": track, "frames": [int(first), int(last)],
            "interpolated_joints": int(fixed.interpolated.sum()),
            "unreliable_joints": {target.joint_names[j]: int(n) for j, n in enumerate(fixed.unreliable.sum(0)) if n},
            "unreliable_frames": _ranges(bad),
        })  # fmt: skip
    frame_reliable = np.asarray(joint_reliable.all(-1))
    metadata = {
        "units": "m", "root_relative": True, "root_joint": target.joint_names[target.root],
        "coordinate_frame": CAMERA_FRAME, "layout": target.name, "joint_names": list(target.joint_names),
        "input_layout": data.skeleton.name, "conversion_style": style if data.skeleton.name == "coco17" else None,
        "fps": rate, "fps_source": rate_source, "image_size": list(size), "image_size_source": size_source,
        "source": data.source, "model": model_description or {"name": type(model).__name__},
        "weights_sha256": weights_checksum(model), "receptive_field": getattr(model, "receptive_field", None),
        "causal": bool(getattr(model, "causal", False)), "flip_averaging": flip, "max_gap": max_gap,
        "min_score": min_score, "tracks": report,
        "streaming_latency_ms_per_frame": float(np.mean(latencies)) if latencies else None,
    }  # fmt: skip
    return Lifted3D(poses, repaired_points, scores, joint_reliable, frame_reliable, target, float(rate), metadata)


def lift_file(
    path: str | PathLike[str],
    checkpoint: str | PathLike[str] | None = None,
    model_name: str | None = None,
    out_dir: str | PathLike[str] | None = None,
    causal: bool = False,
    flip: bool = False,
    animation: bool = True,
    layout: str | None = None,
    animation_format: str | None = None,
    precision: str = "fp32",
    **options: Any,
) -> tuple[Lifted3D, list[Path]]:
    """Read a keypoint file (or a video, with the ``[video]`` extra), lift it, and write the results.

    Args:
        path: A keypoint file (``.json``, OpenPose directory, ``.npy``/``.npz``) or a video (``.mp4``...).
        checkpoint: Lifting model file; without it ``model_name`` with random weights (warned).
        model_name: Registered lifter used without a checkpoint.
        out_dir: Folder of ``{stem}_3d.npz`` and ``{stem}_3d.gif`` (nothing written when ``None``).
        causal: Causal (real-time) model, run frame by frame.
        flip: Test-time flip averaging.
        animation: Write the GIF of the first track (when it has a lifted frame).
        layout: Layout of the keypoints when the reader cannot tell it.
        animation_format: ``"gif"`` or ``"mp4"``; default MP4 for a video (its frames under the 2D points, every
            frame) when MP4 can be written, else GIF.
        precision: ``"fp32"`` or ``"bf16"`` inference (see :func:`load_lifter`).
        **options: Further :func:`lift_keypoints` options (``image_size``, ``fps``, ``max_gap``, ``streaming``...).

    Returns:
        ``(lifted, written files)``.
    """
    from skeletal.data.keypoints import read_keypoints
    from skeletal.viz.animation import ffmpeg_available

    if precision != "fp32" and options.get("streaming"):
        raise ConfigError("--streaming runs the causal model frame by frame in float32; drop --precision bf16")
    model, described = load_lifter(checkpoint, model_name, causal, precision)
    path = Path(path)
    video = path.suffix.lower() in VIDEO_SUFFIXES
    if video:
        from skeletal.inference.video import detect_keypoints

        keypoints = detect_keypoints(path)
    else:
        keypoints = read_keypoints(path, layout)
    lifted = lift_keypoints(keypoints, model, flip=flip, model_description=described, **options)
    written: list[Path] = []
    if out_dir is not None:
        out = Path(out_dir)
        written.append(lifted.save(out / f"{path.stem}_3d.npz"))
        if animation and np.isfinite(lifted.poses[0]).all((-1, -2)).any():
            suffix = animation_format or ("mp4" if video and ffmpeg_available() else "gif")
            if suffix not in ("gif", "mp4"):
                raise ConfigError(f"animation format must be gif or mp4, got {suffix!r}")
            every = 1 if suffix == "mp4" else max(1, keypoints.num_frames // 300)
            images = _video_frames(path) if video else None
            written.append(lifted.animate(out / f"{path.stem}_3d.{suffix}", every=every, max_frames=None,
                                          images=images))  # fmt: skip
    return lifted, written


def _video_frames(path: Path) -> Any:
    """``frame(t)``: RGB frame ``t`` of a video (OpenCV, the ``[video]`` extra), read forwards as asked."""
    import cv2  # type: ignore[import-not-found]

    capture = cv2.VideoCapture(str(path))
    last: list[np.ndarray] = []  # the newest frame read
    position = [-1]

    def frame(index: int) -> np.ndarray | None:
        while position[0] < index:
            ok, image = capture.read()
            if not ok:
                break
            position[0] += 1
            last[:] = [image[..., ::-1]]
        return last[0] if last else None

    return frame
