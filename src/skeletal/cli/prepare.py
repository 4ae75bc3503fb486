"""``skeletal prepare DATASET SOURCE OUTPUT``: raw datasets into memory-mappable arrays (:mod:`skeletal.data`)."""

from __future__ import annotations

import argparse
from typing import Any

from skeletal.cli._shared import Subparsers


def _cmd_prepare(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError

    if args.dataset == "ntu":
        from skeletal.data.ntu import prepare_ntu

        if not args.benchmark:
            raise ConfigError(
                "prepare ntu: --benchmark is required (ntu60-xsub, ntu60-xview, ntu120-xsub, ntu120-xset)"
            )
        summary = prepare_ntu(args.source, args.output, args.benchmark, chunk=args.chunk)
    elif args.dataset in _PREPARE_MORE:
        summary = _prepare_more(args)
    else:
        from skeletal.data.kinetics import prepare_kinetics

        if not args.labels:
            raise ConfigError("prepare kinetics: --labels (the Kinetics-skeleton label JSON) is required")
        summary = prepare_kinetics(args.source, args.labels, args.output, part=args.part, chunk=args.chunk)
    skipped = summary.get("skipped", [])
    print(f"prepared {args.dataset} into {args.output} ({len(skipped)} samples skipped, listed there)")


_PREPARE_MORE = ("h36m", "h36m-expmap", "amass", "humaneva", "cmu")


def _prepare_more(args: argparse.Namespace) -> dict:
    """``skeletal prepare {h36m,h36m-expmap,amass,humaneva,cmu}`` (:mod:`skeletal.data.prepare`)."""
    from skeletal.data import prepare
    from skeletal.errors import ConfigError

    lifting = {"receptive_field": args.receptive_field, "chunk": args.window_chunk, "causal": args.causal}
    if args.dataset in ("h36m", "humaneva"):
        if not args.keypoints:
            raise ConfigError(f"prepare {args.dataset}: --keypoints (the VideoPose3D data_2d_*.npz file) is required")
        function = prepare.prepare_h36m_lifting if args.dataset == "h36m" else prepare.prepare_humaneva
        return function(args.source, args.keypoints, args.output, stride=args.stride, **lifting)
    if args.dataset == "h36m-expmap":
        return prepare.prepare_h36m_prediction(args.source, args.output, stride=args.stride or 10)
    if args.dataset == "amass":
        return prepare.prepare_amass(args.source, args.output, stride=args.stride)
    actions = args.actions.split(",") if args.actions else None
    options: dict[str, Any] = {"stride": args.stride or (lifting["chunk"] if args.task == "lifting" else 10)}
    if args.task == "prediction":
        options.update(window=args.window, val_fraction=args.val_fraction)
    if args.task != "lifting":
        lifting.pop("causal")
    return prepare.prepare_cmu(args.source, args.output, args.task, actions, **options, **lifting)


def add_prepare(commands: Subparsers) -> None:
    """``skeletal prepare DATASET SOURCE OUTPUT``."""
    prepare = commands.add_parser(
        "prepare",
        help="convert a raw dataset into memory-mappable arrays",
        description="ntu: folder of .skeleton files (--benchmark). kinetics: folder of JSON files (--labels, --part). "
        "h36m: data_3d_h36m.npz (--keypoints data_2d_h36m_*.npz) -> lifting windows, train S1,5,6,7,8 / test "
        "S9,11. h36m-expmap: folder S1..S11 of exp-map .txt -> prediction windows (train) and SRNN windows (test). "
        "amass: folder of AMASS .npz takes -> 60 fps amass15 rotation windows of 120+24 frames (train/val/test by "
        "sub-dataset). humaneva: data_3d_humaneva15.npz (--keypoints) -> lifting windows. cmu: the cmu-mocap-expmap "
        "folder (--task prediction|lifting|recognition). Output: SPLIT/x.npy (+ y.npy), meta.json, "
        "fingerprint.json, skipped.json; train with data.train=OUTPUT/train.",
    )
    prepare.add_argument("dataset", choices=["ntu", "kinetics", *_PREPARE_MORE])
    prepare.add_argument(
        "source",
        help="folder of raw files (.skeleton / Kinetics JSON / exp-map S*/ / AMASS / CMU benchmark) or the 3D .npz",
    )
    prepare.add_argument("output", help="output folder")
    prepare.add_argument("--benchmark", help="NTU: ntu60-xsub, ntu60-xview, ntu120-xsub or ntu120-xset")
    prepare.add_argument("--labels", help="Kinetics: the label JSON of the part")
    prepare.add_argument("--part", default="train", help="Kinetics: train or val (default train)")
    prepare.add_argument("--chunk", type=int, default=256, help="samples held in memory at once")
    prepare.add_argument("--keypoints", help="h36m, humaneva: the VideoPose3D 2D keypoint .npz")
    prepare.add_argument("--task", default="prediction", choices=["prediction", "lifting", "recognition"],
                         help="cmu: which task's arrays (default prediction)")  # fmt: skip
    prepare.add_argument("--actions", help="cmu: comma-separated actions (default all)")
    prepare.add_argument("--stride", type=int, help="frames between windows (default: lifting 1 target frame apart, "
                         "h36m-expmap and cmu prediction 10, amass the window length)")  # fmt: skip
    prepare.add_argument("--window", type=int, help="cmu prediction: frames per training window (default 75)")
    prepare.add_argument("--val-fraction", type=float, default=0.1,
                         help="cmu prediction: tail of each training take for validation (default 0.1)")  # fmt: skip
    prepare.add_argument("--receptive-field", type=int, default=27, help="h36m, humaneva, cmu lifting: input frames")
    prepare.add_argument("--window-chunk", type=int, default=1, help="h36m, humaneva, cmu lifting: targets per window")
    prepare.add_argument("--causal", action="store_true",
                         help="h36m, humaneva, cmu lifting: windows for a causal lifter")  # fmt: skip
    prepare.set_defaults(handler=_cmd_prepare)
