"""Fuzz every data reader with mutated valid files; count outcomes per reader (issue 18, item 7).

Each reader gets a small valid seed file written here in its format; each case applies 1-3 random mutations
(truncation, deleted/duplicated line, a number replaced by a bad token or a huge count, inserted random bytes,
a flipped byte, an empty file) and the reader must either return data or raise ``DataError``. Anything else
(another exception, ``MemoryError`` under an address-space cap of +1 GiB, a case slower than ``--deadline``
seconds) is counted as a failure and its first message printed.

Usage::

    nice -n 15 python benchmarks/fuzz_readers.py --cases 10000 --out benchmarks/results/fuzz_readers.md
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from skeletal.data import amass, asf_amc, bvh, cmu, h36m, humaneva, keypoints, kinetics, ntu
from skeletal.errors import DataError

TOKENS = [b"nan", b"inf", b"-inf", b"1e308", b"1e999", b"abc", b"", b"-1", b"1000000000000", b"\xc2\xb3", b"9" * 400]

ASF = """:version 1.10
:units
  mass 1.0
  length 0.45
  angle deg
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name femur
     direction 0 -1 0
     length 2
     axis 0 0 90 XYZ
    dof rx rz
  end
  begin
     id 2
     name tibia
     direction 0 -1 0
     length 1
     axis 0 0 0 XYZ
  end
:hierarchy
  begin
    root femur
    femur tibia
  end
"""
AMC = ":FULLY-SPECIFIED\n:DEGREES\n1\nroot 0 0 0 0 0 0\nfemur 10 20\n2\nroot 0 0 0 0 0 0\nfemur 0 0\n"
BVH = ("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation"
       " Yrotation\n JOINT Knee\n {\n  OFFSET 0 -2 0\n  CHANNELS 3 Zrotation Yrotation Xrotation\n  End Site\n"
       "  {\n   OFFSET 0 -1 0\n  }\n }\n}\nMOTION\nFrames: 2\nFrame Time: 0.04\n"
       "0 1 0 10 0 0 5 0 0\n0 1 0 20 0 0 6 0 0\n")  # fmt: skip


def _npz(**arrays: Any) -> bytes:
    folder = Path(tempfile.mkdtemp())
    np.savez(folder / "a.npz", **arrays)
    data = (folder / "a.npz").read_bytes()
    shutil.rmtree(folder)
    return data


def _coco17(path: Path) -> object:
    """17-joint arrays name their layout (coco17 or h36m17: never guessed)."""
    return keypoints.read_keypoints(path, layout="coco17")


def _npy(array: np.ndarray) -> bytes:
    folder = Path(tempfile.mkdtemp())
    np.save(folder / "a.npy", array)
    data = (folder / "a.npy").read_bytes()
    shutil.rmtree(folder)
    return data


def _ntu_seed(rng: np.random.Generator) -> bytes:
    lines = ["2"]
    for _ in range(2):
        lines += ["1", "72057594037931101 0 1 1 1 1 0 0.02764709 0.05745083 2", "25"]
        lines += [" ".join(f"{v:.5g}" for v in rng.normal(size=3)) + " 277.1 191.0 1036.6 478.3 0.2 0.01 0.97 -0.02 2"
                  for _ in range(25)]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n").encode()


def _kinetics_seed() -> bytes:
    data = [{"frame_index": t, "skeleton": [{"pose": [0.1 * (t + 1)] * 36, "score": [0.9] * 18}]} for t in range(3)]
    return json.dumps({"data": data, "label": "x", "label_index": 3}, indent=0).encode()


def readers(folder: Path, rng: np.random.Generator) -> dict[str, tuple[bytes, str, Callable[[Path], Any]]]:
    """``name -> (seed bytes, file name, read)``; companions (the ASF for AMC cases...) are written to ``folder``."""
    (folder / "ok.asf").write_text(ASF)
    (folder / "ok.amc").write_text(AMC)
    openpose = folder / "openpose"
    openpose.mkdir()
    person = np.concatenate([rng.uniform(0, 500, (18, 2)), rng.uniform(0.1, 1, (18, 1))], axis=1).ravel().tolist()
    (openpose / "c_000000000000_keypoints.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": person}]}))
    expmap = lambda width: "\n".join(",".join(f"{v:.6f}" for v in rng.normal(size=width)) for _ in range(3))  # noqa: E731
    poses = rng.normal(scale=0.3, size=(4, 156))
    positions = {"S1": {"Walk 1 chunk0": rng.normal(size=(3, 15, 3)).astype(np.float32)}}
    views = {"S1": {"Walk 1 chunk0": [rng.normal(size=(3, 15, 2)).astype(np.float32), None, None]}}
    meta = {"layout_name": "humaneva15", "num_joints": 15, "keypoints_symmetry": [[2, 3], [5, 6]]}
    return {
        "cmu.read_expmap": ((expmap(117) + "\n").encode(), "w_1.txt", cmu.read_expmap),
        "h36m.read_expmap_txt": ((expmap(99) + "\n").encode(), "w_1.txt", h36m.read_expmap_txt),
        "bvh.read_bvh": (BVH.encode(), "a.bvh", bvh.read_bvh),
        "asf_amc (asf)": (ASF.encode(), "a.asf", lambda p: asf_amc.read_asf_amc(p, folder / "ok.amc")),
        "asf_amc (amc)": (AMC.encode(), "a.amc", lambda p: asf_amc.read_asf_amc(folder / "ok.asf", p)),
        "ntu.read_ntu_skeleton": (
            _ntu_seed(rng),
            "S001C001P001R001A001.skeleton",
            lambda p: ntu.sample_array(p, max_frames=8),
        ),  # fmt: skip
        "keypoints (Kinetics-style JSON)": (_kinetics_seed(), "k.json", keypoints.read_keypoints),
        "kinetics.read_kinetics_json": (_kinetics_seed(), "k.json", kinetics.read_kinetics_json),
        "keypoints (OpenPose folder)": (
            json.dumps({"people": [{"pose_keypoints_2d": person}] * 2}).encode(),
            "c_000000000001_keypoints.json",
            lambda p: keypoints.read_keypoints(p.parent),
        ),  # fmt: skip
        "keypoints (.npy)": (_npy(rng.uniform(0, 1, (4, 17, 3))), "k.npy", _coco17),
        "keypoints (.npz)": (_npz(keypoints=rng.uniform(0, 1, (1, 4, 17, 3))), "k.npz", _coco17),
        "amass.read_amass_npz": (
            _npz(
                poses=poses,
                trans=rng.normal(size=(4, 3)),
                mocap_framerate=np.array(120.0),
                betas=np.zeros(16),
                gender=np.array("male"),
            ),
            "t.npz",
            amass.read_amass_npz,
        ),  # fmt: skip
        "humaneva 3d (VideoPose3D npz)": (
            _npz(positions_3d=np.array(positions, dtype=object)),
            "h3.npz",
            humaneva.load_humaneva_3d,
        ),  # fmt: skip
        "humaneva 2d (VideoPose3D npz)": (
            _npz(positions_2d=np.array(views, dtype=object), metadata=np.array(meta, dtype=object)),
            "h2.npz",
            humaneva.load_humaneva_2d,
        ),  # fmt: skip
    }


def mutate(seed: bytes, rng: np.random.Generator) -> bytes:
    data = seed
    for _ in range(int(rng.integers(1, 4))):
        kind = rng.choice(["truncate", "delete", "duplicate", "token", "count", "bytes", "flip", "flip", "empty"])
        lines = data.split(b"\n")
        if kind == "truncate":
            data = data[: int(rng.integers(0, len(data) + 1))]
        elif kind in ("delete", "duplicate") and lines:
            i = int(rng.integers(0, len(lines)))
            lines[i : i + 1] = [] if kind == "delete" else [lines[i], lines[i]]
            data = b"\n".join(lines)
        elif kind in ("token", "count"):
            digits = [i for i in range(len(data)) if 48 <= data[i] <= 57]
            if digits:
                start = end = digits[int(rng.integers(0, len(digits)))]
                while start > 0 and 48 <= data[start - 1] <= 57:
                    start -= 1
                while end < len(data) and (48 <= data[end] <= 57 or data[end] in b".eE-"):
                    end += 1
                new = b"99999999999" if kind == "count" else TOKENS[int(rng.integers(0, len(TOKENS)))]
                data = data[:start] + new + data[end:]
        elif kind == "bytes":
            at = int(rng.integers(0, len(data) + 1))
            data = data[:at] + rng.bytes(int(rng.integers(1, 13))) + data[at:]
        elif kind == "flip" and data:
            at = int(rng.integers(0, len(data)))
            data = data[:at] + bytes([data[at] ^ int(rng.integers(1, 256))]) + data[at + 1 :]
        elif kind == "empty":
            data = b""
    return data


def fuzz(name: str, seed: bytes, filename: str, read: Callable[[Path], Any], folder: Path, cases: int,
         rng: np.random.Generator, deadline: float) -> dict[str, Any]:  # fmt: skip
    path = (folder / "openpose" if "OpenPose" in name else folder) / filename
    counts = {"cases": 0, "valid": 0, "DataError": 0, "other": 0, "slow": 0}
    examples: list[str] = []
    slowest = 0.0
    for _ in range(cases):
        path.write_bytes(mutate(seed, rng))
        start = time.perf_counter()
        try:
            read(path)
            counts["valid"] += 1
        except DataError:
            counts["DataError"] += 1
        except BaseException as error:  # noqa: BLE001  anything but DataError is what this benchmark counts
            if isinstance(error, KeyboardInterrupt):
                raise
            counts["other"] += 1
            if len(examples) < 3:
                examples.append(f"{type(error).__name__}: {str(error)[:160]}")
        elapsed = time.perf_counter() - start
        slowest = max(slowest, elapsed)
        counts["slow"] += elapsed > deadline
        counts["cases"] += 1
    return {**counts, "slowest_s": slowest, "examples": examples}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="mutated cases per reader")
    parser.add_argument("--deadline", type=float, default=5.0, help="seconds after which a case counts as a hang")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="substring of the reader names to run")
    parser.add_argument("--out", help="write the table (markdown) here")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="fuzz-bench-"))
    with open("/proc/self/statm") as stream:
        current = int(stream.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (current + (1 << 30), resource.getrlimit(resource.RLIMIT_AS)[1]))
    rows = []
    started = time.time()
    try:
        for name, (seed, filename, read) in readers(folder, rng).items():
            if args.only and args.only not in name:
                continue
            seed_path = (folder / "openpose" if "OpenPose" in name else folder) / filename
            seed_path.write_bytes(seed)
            read(seed_path)  # the seed itself is valid
            result = fuzz(name, seed, filename, read, folder, args.cases, rng, args.deadline)
            rows.append((name, result))
            print(f"{name}: {result}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = [
        f"# Reader fuzzing (`benchmarks/fuzz_readers.py --cases {args.cases} --seed {args.seed}`)",
        "",
        f"{args.cases} mutated cases per reader, address space capped at +1 GiB, a case over {args.deadline} s "
        f"counts as a hang; {time.time() - started:.0f} s in all.",
        "",
        "| reader | cases | read as valid | DataError | other exception | slow (> deadline) | slowest case (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in rows:
        lines.append(f"| {name} | {r['cases']} | {r['valid']} | {r['DataError']} | {r['other']} | {r['slow']} | "
                     f"{r['slowest_s']:.3f} |")  # fmt: skip
    failures = [f"- {name}: {e}" for name, r in rows for e in r["examples"]]
    lines += ["", "Other exceptions (first 3 per reader):", *(failures or ["- none"])]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    return 1 if any(r["other"] or r["slow"] for _, r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
