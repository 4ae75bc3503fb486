"""``skeletal viz FIGURE``: drawings of what a model looks at (``viz attention``: spatial attention maps)."""

from __future__ import annotations

import argparse
from pathlib import Path

from skeletal.cli._shared import Subparsers, default_model


def _cmd_viz_attention(args: argparse.Namespace) -> None:
    from skeletal import models
    from skeletal.errors import ConfigError
    from skeletal.inference.recognition import load_recognition_input, load_recognition_model
    from skeletal.viz.attention import draw_attention

    if args.input is None:  # `skeletal viz attention INPUT`: the only positional is the input
        args.model, args.input = default_model("viz attention"), args.model
    x = load_recognition_input(args.input, sample=args.sample)
    if args.model.startswith("pretrained:") or Path(args.model).suffix == ".safetensors" or Path(args.model).is_file():
        model, info = load_recognition_model(args.model)
        skeleton = args.skeleton or info.skeleton or info.model_kwargs.get("skeleton")
    else:  # a registered name: untrained weights (shows the mechanics, not learned attention)
        skeleton = args.skeleton or "ntu25"
        model = models.create(args.model, skeleton=skeleton, num_persons=len(x), in_channels=x.shape[-1]).eval()
    if not isinstance(skeleton, str) or not skeleton:
        raise ConfigError("viz attention: the layout is unknown; pass --skeleton")
    files = draw_attention(
        model, x, skeleton, args.layer, args.frame, args.out, person=args.person, head=args.head,
        axes=tuple(args.axes), gif=not args.no_gif, max_frames=args.max_frames, fps=args.fps,
    )  # fmt: skip
    for path in files.values():
        print(f"wrote {path}")


def add_viz(commands: Subparsers) -> None:
    """``skeletal viz attention [MODEL] INPUT``."""
    viz = commands.add_parser("viz", help="draw what a model looks at")
    figures = viz.add_subparsers(dest="figure", metavar="FIGURE", required=True)
    attention = figures.add_parser(
        "attention",
        help="spatial attention of a layer and frame: V x V heatmap + joint relevance on the skeleton (PNG, GIF)",
        description="Draw, as the ST-TR journal's appendix C, the V x V spatial self-attention of one layer and frame "
        "(mean over heads) as a heatmap and each joint's relevance (column sum) as circle sizes on the skeleton, as a "
        "PNG and as a GIF over the frames of that layer.",
    )
    attention.add_argument("model", help="model file (.safetensors, pretrained:NAME) or a registered model name "
                           "(untrained weights); optional: default the shipped pretrained:s-tr-synthetic")  # fmt: skip
    attention.add_argument(
        "input",
        nargs="?",
        help=".npy/.npz joints (T, V, C), (M, T, V, C) or (N, M, T, V, C) (a prepared split), NTU "
        ".skeleton, or 'synthetic' (a sample of the embedded synthetic data)",
    )
    attention.add_argument("--layer", type=int, default=-1, help="spatial attention layer (default -1, the last)")
    attention.add_argument("--frame", type=int, default=0, help="frame of that layer (strided layers have fewer)")
    attention.add_argument("--out", default="attention", help="output folder (default ./attention)")
    attention.add_argument("--sample", type=int, default=0, help="row of an (N, M, T, V, C) input")
    attention.add_argument("--person", type=int, default=0, help="person drawn")
    attention.add_argument("--head", type=int, help="one head (default: mean over heads)")
    attention.add_argument("--axes", type=int, nargs=2, default=[0, 1], help="pose coordinates drawn (default 0 1)")
    attention.add_argument("--skeleton", help="layout of the input (default: the model file's)")
    attention.add_argument("--max-frames", type=int, default=64, help="frames in the GIF (default 64)")
    attention.add_argument("--fps", type=int, default=10, help="GIF frames per second")
    attention.add_argument("--no-gif", action="store_true", help="only the PNG")
    attention.set_defaults(handler=_cmd_viz_attention)
