"""HumanEva-I, GAST-Net's protocol #2 (P-MPJPE, receptive field 27, Walk/Jog/Box x S1-S3), GAST-Net and
VideoPose3D trained with the same recipe and budget through the public path, beside the paper's table 4.

Usage (from the repository root; the data are licensed for research and never committed):

    python benchmarks/humaneva_lifting.py --data FOLDER  # data_3d_humaneva15.npz, data_2d_humaneva15_gt.npz

Runs ``skeletal prepare humaneva`` into ``data/humaneva-lifting``, ``skeletal train`` on
``configs/lifting/gast-net_27_humaneva_cpu.yaml`` and ``videopose3d_27_humaneva_gast-recipe.yaml`` (resumed after an
interruption, skipped when done), then the table of ``skeletal eval --protocol humaneva``. Our 2D input is the
ground-truth 2D of VideoPose3D's files; the published rows use detected 2D (Detectron). Writes
``benchmarks/results/humaneva_lifting.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from public_path import ROOT, prepared, trained, training_notes  # noqa: E402

from skeletal import checkpoint  # noqa: E402
from skeletal.evaluation.lifting import MeanPoseLifter  # noqa: E402
from skeletal.evaluation.tables import humaneva_lifting_tables  # noqa: E402

CONFIGS = {
    "GAST-Net 27 (64 ch)": "configs/lifting/gast-net_27_humaneva_cpu.yaml",
    "VideoPose3D 27": "configs/lifting/videopose3d_27_humaneva_gast-recipe.yaml",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder of data_3d_humaneva15.npz, data_2d_humaneva15_gt.npz")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "humaneva_lifting.md"))
    args = parser.parse_args()
    path_3d = Path(args.data) / "data_3d_humaneva15.npz"
    path_2d = Path(args.data) / "data_2d_humaneva15_gt.npz"
    if not (path_3d.is_file() and path_2d.is_file()):
        raise SystemExit(f"{args.data}: needs data_3d_humaneva15.npz and data_2d_humaneva15_gt.npz")
    torch.set_num_threads(1)
    folder = prepared("data/humaneva-lifting", "humaneva", str(path_3d), "--keypoints", str(path_2d))
    files = {name: trained(config) for name, config in CONFIGS.items()}
    train_targets = np.load(folder / "train" / "y.npy", mmap_mode="r")
    mean_pose = MeanPoseLifter(np.asarray(train_targets[:, -1]).mean(axis=0), "humaneva15")
    models = {"mean pose": mean_pose, **{name: checkpoint.load(path) for name, path in files.items()}}
    text = "# HumanEva-I lifting (protocol #2)\n\n" + humaneva_lifting_tables(models, path_3d, path_2d)
    text += "\n" + training_notes(files)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
