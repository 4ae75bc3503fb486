"""``skeletal predict`` and ``skeletal lift``: a model file (or the shipped default) applied to an input file."""

from __future__ import annotations

import argparse
from pathlib import Path

from skeletal.cli._shared import Subparsers, check_layout_flag, default_model, is_recognition


def _cmd_predict(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError

    if args.input is None:  # `skeletal predict INPUT`: the only positional is the input
        args.checkpoint, args.input = None, args.checkpoint
    if args.checkpoint is None:
        if args.seconds is None:
            raise ConfigError(f"predict: give a model file before INPUT {args.input} (or --seconds S to forecast "
                              "with the shipped motion model)")  # fmt: skip
        args.checkpoint = default_model("predict")
    if args.seconds is not None:
        from skeletal.evaluation.forecast import forecast

        stem = args.checkpoint.removeprefix("pretrained:") if args.checkpoint.startswith("pretrained:") else None
        out = args.out or (f"{stem}_forecast" if stem else str(Path(args.checkpoint).with_suffix("")) + "_forecast")
        result = forecast(args.checkpoint, args.input, args.seconds, out, render_every=args.render_every,
                          precision=args.precision)  # fmt: skip
        print(f"wrote {result.npz}" + (f" and {result.animation}" if result.animation else ""))
        return
    output = args.output or str(Path(args.input).with_suffix("")) + "_pred.npz"
    if args.ensemble or is_recognition(args.checkpoint):
        from skeletal.inference.recognition import predict_recognition

        path = predict_recognition(args.checkpoint, args.input, output, args.ensemble, batch_size=args.batch_size,
                                   precision=args.precision)  # fmt: skip
    else:
        from skeletal.tasks import predict  # Lightning (~180 MB): not for a forecast or a recognition model

        path = predict(args.checkpoint, args.input, output, batch_size=args.batch_size, precision=args.precision)
    print(f"wrote {path}")


def _cmd_lift(args: argparse.Namespace) -> None:
    from skeletal.errors import ConfigError

    size = None
    if args.image_size:
        width, _, height = args.image_size.lower().partition("x")
        if not (width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
            raise ConfigError(f"lift --image-size: expected WIDTHxHEIGHT in pixels (e.g. 1280x720), got "
                              f"{args.image_size!r}")  # fmt: skip
        size = (int(width), int(height))
    check_layout_flag("lift --layout", args.layout)
    from skeletal.inference.lifting import lift_file  # torch: after the argument checks

    checkpoint = args.checkpoint or (None if args.model else default_model("lift --causal" if args.causal else "lift"))
    lifted, written = lift_file(
        args.input, checkpoint=checkpoint, model_name=args.model, out_dir=args.out, causal=args.causal,
        flip=args.flip, animation=not args.no_animation, layout=args.layout, image_size=size, fps=args.fps,
        max_gap=args.max_gap, streaming=args.streaming, animation_format=args.animation, precision=args.precision,
    )  # fmt: skip
    meta = lifted.metadata
    print(f"lifted {lifted.poses.shape[0]} track(s) x {lifted.poses.shape[1]} frames to 3D ({meta['layout']}, metres, "
          f"root-relative, camera frame) with {meta['model']['name']}")  # fmt: skip
    print(f"image size {meta['image_size'][0]}x{meta['image_size'][1]} ({meta['image_size_source']}); "
          f"fps {meta['fps']:g} ({meta['fps_source']})")  # fmt: skip
    for track in meta["tracks"]:
        if track.get("skipped"):
            print(f"track {track['track']}: skipped ({track['skipped']})")
            continue
        note = f"track {track['track']}: frames {track['frames'][0]}-{track['frames'][1]}, "
        note += f"{track['interpolated_joints']} joint(s) interpolated"
        if track["unreliable_frames"]:
            note += f"; UNRELIABLE (gaps > {meta['max_gap']} frames) in frames {track['unreliable_frames']}: "
            note += ", ".join(f"{name} x{count}" for name, count in track["unreliable_joints"].items())
        print(note)
    if meta["streaming_latency_ms_per_frame"] is not None:
        print(f"streaming latency: {meta['streaming_latency_ms_per_frame']:.2f} ms per frame")
    for path in written:
        print(f"wrote {path}")


def add_predict(commands: Subparsers) -> None:
    """``skeletal predict [MODEL_FILE] INPUT [--seconds S]``."""
    predict = commands.add_parser(
        "predict", help="labels / future motion / 3D poses of an input file, written to an .npz"
    )
    predict.add_argument("checkpoint", help="model file (.safetensors or pretrained:NAME); optional with --seconds "
                         "(default: the shipped motion model)")  # fmt: skip
    predict.add_argument("input", nargs="?", help=".npy array or .npz with key x (task input layout, batch axis "
                         "optional), or the seed of --seconds")  # fmt: skip
    predict.add_argument("-o", "--output", help="output .npz (default: INPUT_pred.npz)")
    predict.add_argument("--batch-size", type=int, default=64)
    predict.add_argument(
        "--seconds",
        type=float,
        help="prediction: generate this many seconds after INPUT, a seed (.npz with rotations, .bvh, or "
        "cmu:SPLIT/ACTION/FILE.txt), and write prediction.npz and an animation to --out",
    )
    predict.add_argument("--out", help="output folder of --seconds (default: CHECKPOINT_forecast)")
    predict.add_argument("--render-every", type=int, help="animate every k-th frame (default: at most 300 frames)")
    predict.add_argument("--ensemble", metavar="MODEL_FILE", help="recognition: second stream, softmax scores summed")
    predict.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                         help="inference precision (bf16: AVX-512-BF16 or AMX CPUs; README, Speed)")  # fmt: skip
    predict.set_defaults(handler=_cmd_predict)


def add_lift(commands: Subparsers) -> None:
    """``skeletal lift INPUT [--checkpoint M] [--causal]``."""
    lift = commands.add_parser(
        "lift",
        help="lift 2D keypoints (or a video, with the [video] extra) to 3D poses: .npz + GIF",
        description="Lift a 2D keypoint file (COCO-17 JSON like baseball.json, an OpenPose JSON folder, .npy/.npz) or "
        "a video (the [video] extra, README) to root-relative 3D joints in metres, camera frame, h36m17 layout; "
        "missing joints are interpolated over short gaps and longer gaps reported. Writes INPUT_3d.npz (with its "
        "metadata) and INPUT_3d.gif, or for a video INPUT_3d.mp4 (the frames with the 2D keypoints beside the 3D "
        "result).",
    )
    lift.add_argument("input", help="keypoint file or folder, or a video file (.mp4...)")
    weights = lift.add_mutually_exclusive_group()
    weights.add_argument("--checkpoint", help="lifting model file (.safetensors or pretrained:NAME; default: the "
                         "shipped CMU-trained GAST-Net, its causal version with --causal)")  # fmt: skip
    weights.add_argument("--model", help="registered lifter, RANDOM weights (meaningless output; default gast-net-27)")
    lift.add_argument("--out", default="lifted", help="output folder (default ./lifted)")
    lift.add_argument("--causal", action="store_true", help="causal model (each pose from past frames only)")
    lift.add_argument("--streaming", action="store_true",
                      help="causal: run frame by frame as on live input and report the latency (default: layer by "
                      "layer, same poses, much faster)")  # fmt: skip
    animation_help = "animation format (default: mp4 for a video, when OpenCV or ffmpeg is present; else gif)"
    lift.add_argument("--animation", choices=["gif", "mp4"], help=animation_help)
    lift.add_argument("--flip", action="store_true", help="average with the prediction of the mirrored input")
    lift.add_argument("--image-size", help="WIDTHxHEIGHT in pixels (default: the file's, else estimated)")
    lift.add_argument("--fps", type=float, help="frames per second (default: the file's, else 30)")
    lift.add_argument("--max-gap", type=int, default=10, help="longest gap of a missing joint interpolated (frames)")
    lift.add_argument("--layout", help="layout of the keypoints when the file cannot tell (e.g. coco17)")
    lift.add_argument("--no-animation", action="store_true", help="only the .npz")
    lift.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                      help="inference precision (bf16: AVX-512-BF16 or AMX CPUs; ~1.5x faster, +0.03 mm)")  # fmt: skip
    lift.set_defaults(handler=_cmd_lift)
