"""Build the shipped pretrained models (``src/skeletal/pretrained``) from run folders trained through the public path.

Usage (from the repository root, after the CMU trainings of benchmarks/cmu_prediction.py and the lifter configs):

    python benchmarks/build_pretrained.py [--root ../shared/data/cmu-mocap-expmap]

For each entry of ``ENTRIES``: load the run's ``model.safetensors``, evaluate it (CMU prediction protocol, LTD's
metrics, or the CMU lifting protocol), store its weights in float16 (half the size; the model is rebuilt in
float32 at load), evaluate the stored file again and require the same metrics within the stated tolerance, then
write the file and its manifest entry (training data, config, command, metrics, SHA-256). Models trained on
Human3.6M or HumanEva are never shipped. Data: CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from public_path import ROOT, training_summary  # noqa: E402

from skeletal import checkpoint  # noqa: E402

FOLDER = ROOT / "src" / "skeletal" / "pretrained"
SYNTHETIC = "SYNTHETIC motion (skeletal.data.synthetic), no recorded data"
CMU = "CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu), the CMU motion-prediction benchmark's train/ takes"
ENTRIES = (
    {
        "name": "st-transformer-cmu",
        "run": "runs/cmu-prediction/cmu_st-transformer",
        "config": "configs/prediction/cmu_st-transformer.yaml",
        "data": "skeletal prepare cmu ../shared/data/cmu-mocap-expmap data/cmu-prediction --task prediction "
        "--window 26 --stride 1",
        "default_for": ["predict"],
    },
    {
        "name": "seq2seq-cmu",
        "run": "runs/cmu-prediction/cmu_seq2seq",
        "config": "configs/prediction/cmu_seq2seq.yaml",
        "data": "skeletal prepare cmu ../shared/data/cmu-mocap-expmap data/cmu-prediction-75 --task prediction "
        "--window 75 --stride 2",
        "default_for": [],
    },
    {
        "name": "gast-net-27-cmu",
        "run": "runs/cmu-lifting/gast-net_27_cmu",
        "config": "configs/lifting/gast-net_27_cmu.yaml",
        "data": "skeletal prepare cmu ../shared/data/cmu-mocap-expmap data/cmu-lifting --task lifting "
        "--window-chunk 32 --stride 16",
        "default_for": ["lift"],
    },
    {
        "name": "gast-net-27-cmu-causal",
        "run": "runs/cmu-lifting/gast-net_27_cmu_causal",
        "config": "configs/lifting/gast-net_27_cmu_causal.yaml",
        "data": "skeletal prepare cmu ../shared/data/cmu-mocap-expmap data/cmu-lifting-causal --task lifting "
        "--window-chunk 32 --stride 16 --causal",
        "default_for": ["lift --causal"],
    },
    {
        "name": "s-tr-synthetic",
        "run": "runs/pretrained/s-tr_synthetic",
        "config": "configs/recognition/s-tr_synthetic.yaml",
        "data": "the embedded synthetic generator (skeletal.data.synthetic: 8 actions on h36m17, no download)",
        "default_for": ["viz attention"],
    },
)


def metrics_of(model: torch.nn.Module, task: str, root: str) -> dict[str, float]:
    """Test metrics of one model: LTD's CMU protocol (average over the 6 test actions), CMU lifting, or (the
    synthetic recognition model) top-1/top-5 on the synthetic held-out split of its config."""
    if task == "recognition":
        return {}
    if task == "prediction":
        from skeletal.evaluation.prediction import CMU_HORIZONS_MS, cmu_protocol

        table = cmu_protocol(model, root)
        return {
            f"cmu/{metric}/{ms}ms": round(float(value), 4)
            for metric in ("euler", "mpjpe")
            for ms, value in zip(CMU_HORIZONS_MS, table.values[metric]["average"])
        }
    from skeletal.evaluation.lifting import cmu_lifting_protocol

    table = cmu_lifting_protocol(model, root, flip=True)
    return {f"cmu-lifting/{m}": round(float(table.values[m]["average"]), 2) for m in ("mpjpe", "p_mpjpe")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT.parent / "shared" / "data" / "cmu-mocap-expmap"))
    parser.add_argument("--only", nargs="*", help="names of ENTRIES to build (default: every one whose run exists)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    manifest_path = FOLDER / "manifest.json"
    manifest = {e["name"]: e for e in json.loads(manifest_path.read_text())}
    for entry in ENTRIES:
        if args.only and entry["name"] not in args.only:
            continue
        run = ROOT / entry["run"]
        source = run / "model.safetensors"
        if not source.is_file():
            print(f"{entry['name']}: no {source}, skipped")
            continue
        model = checkpoint.load(source)
        info = model.skeletal_info
        measured = metrics_of(model, info.task, args.root) or recognition_metrics(source)
        target = FOLDER / f"{entry['name']}.safetensors"
        checkpoint.save(target, _half_view(model), info.model_name, info.model_kwargs, info.task, info.skeleton,
                        info.config, measured)  # fmt: skip
        reloaded = checkpoint.load(target)
        again = metrics_of(reloaded, info.task, args.root) or recognition_metrics(target)
        worst = max(abs(again[k] - measured[k]) / max(abs(measured[k]), 1e-9) for k in measured)
        if worst > 0.01:
            raise SystemExit(f"{entry['name']}: float16 weights change a metric by {worst:.2%}; not shipped")
        parameters = sum(p.numel() for p in reloaded.parameters())
        manifest[entry["name"]] = {
            "name": entry["name"],
            "task": info.task,
            "model": info.model_name,
            "file": target.name,
            "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            "layout": info.skeleton or str(info.model_kwargs.get("skeleton", "")),
            "training": f"{SYNTHETIC if 'synthetic' in entry['data'] else CMU}; data: `{entry['data']}`; "
            f"`skeletal train {entry['config']}`; "
            f"{parameters:,} parameters ({json.dumps(info.model_kwargs)}); {training_summary(run)}; weights stored "
            f"in float16 (largest metric change {worst:.3%})",
            "metrics": again,
            "default_for": entry["default_for"],
        }
        print(f"{entry['name']}: {target.stat().st_size / 1e6:.1f} MB, {again}")
    manifest_path.write_text(json.dumps(list(manifest.values()), indent=1) + "\n")
    (ROOT / "benchmarks" / "results" / "pretrained.md").write_text(markdown(list(manifest.values())))


HEADLINE = {
    "prediction": ("cmu/mpjpe/80ms", "cmu/mpjpe/400ms", "cmu/mpjpe/1000ms"),
    "lifting": ("cmu-lifting/mpjpe", "cmu-lifting/p_mpjpe"),
    "recognition": ("synthetic/top1",),
}


def markdown(entries: list[dict]) -> str:
    """The README's table of shipped models."""
    lines = [
        "| name | task | model (layout) | size | test metrics | default of |",
        "| --- | --- | --- | ---: | --- | --- |",
    ]
    for entry in entries:
        size = (FOLDER / entry["file"]).stat().st_size / 1e6
        metrics = ", ".join(
            f"{key} {entry['metrics'][key]:.3g}" for key in HEADLINE[entry["task"]] if key in entry["metrics"]
        )
        defaults = ", ".join(f"`skeletal {c}`" for c in entry["default_for"]) or "-"
        lines.append(f"| `pretrained:{entry['name']}` | {entry['task']} | `{entry['model']}` ({entry['layout']}) | "
                     f"{size:.1f} MB | {metrics} | {defaults} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def recognition_metrics(path: Path) -> dict[str, float]:
    """Top-1/top-5 of a recognition model file on the held-out split its config describes (``skeletal eval``)."""
    from skeletal.tasks import evaluate

    metrics = evaluate(path, progress_bar=False)
    return {f"synthetic/{key.split('/')[-1]}": round(float(value), 4) for key, value in metrics.items()
            if key.startswith("test/top")}  # fmt: skip


def _half_view(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``model`` whose floating-point tensors are float16 (what the shipped file stores)."""
    import copy

    copied = copy.deepcopy(model)
    return copied.half()


if __name__ == "__main__":
    main()
