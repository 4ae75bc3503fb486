"""Human3.6M motion prediction, the ST-Transformer paper's protocol (subject 5, 8 SRNN seeds per action, Euler error
at 80/160/320/400 ms): the ST-Transformer and its table-2 baselines (vanilla Transformer, residual GRU seq2seq of
Martinez et al.), all trained the same way through the public path, beside the paper's table 2.

Usage (from the repository root; the data are licensed for research and never committed):

    python benchmarks/h36m_prediction.py --data H36M_EXPMAP_DIR [--override trainer.max_time_s=3600 ...]

``H36M_EXPMAP_DIR`` holds Martinez et al.'s exp-map files ``S1/walking_1.txt`` ... Runs ``skeletal prepare
h36m-expmap`` into ``data/h36m-prediction``, ``skeletal train`` on ``configs/prediction/st-transformer_h36m_cpu.yaml``,
``transformer_h36m_cpu.yaml`` and ``seq2seq_h36m_cpu.yaml`` (resumed after an interruption, skipped when done),
then the table of ``skeletal eval --protocol h36m``. Writes ``benchmarks/results/h36m_prediction.md``.
``--only NAME ... --out FILE`` trains and scores only the named models (e.g. ``--only Transformer`` after a change
of its config), written to another file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from public_path import ROOT, prepared, trained, training_notes  # noqa: E402

from skeletal import checkpoint  # noqa: E402
from skeletal.evaluation.tables import h36m_prediction_tables  # noqa: E402

CONFIGS = {
    "ST-Transformer (L=4, window 26)": "configs/prediction/st-transformer_h36m_cpu.yaml",
    "Transformer (L=4, window 26)": "configs/prediction/transformer_h36m_cpu.yaml",
    "seq2seq (GRU 1024)": "configs/prediction/seq2seq_h36m_cpu.yaml",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder of the exp-map files S1/ ... S11/")
    parser.add_argument("--override", nargs="*", default=[], help="key.sub=value overrides for every training")
    parser.add_argument("--only", nargs="*", help="the models to train and score (names before the parenthesis)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "h36m_prediction.md"))
    args = parser.parse_args()
    if not (Path(args.data) / "S5").is_dir():
        raise SystemExit(f"{args.data}: no S5/ folder of Human3.6M exp-map files")
    torch.set_num_threads(1)
    prepared("data/h36m-prediction", "h36m-expmap", args.data)
    chosen = {name: config for name, config in CONFIGS.items() if not args.only or name.split(" (")[0] in args.only}
    if not chosen:
        raise SystemExit(f"--only: expected some of {', '.join(n.split(' (')[0] for n in CONFIGS)}")
    files = {name: trained(config, *args.override) for name, config in chosen.items()}
    models = {name: checkpoint.load(path) for name, path in files.items()}
    text = "# Human3.6M motion prediction (ST-Transformer table 2 protocol)\n\n"
    text += h36m_prediction_tables(models, args.data) + "\n" + training_notes(files)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
