"""Fuzz every data reader with mutated valid files; count outcomes per reader (issue 18, item 7).

Each reader gets a small valid seed file written here in its format; each case applies 1-3 random mutations
(truncation, deleted/duplicated line, a number replaced by a bad token or a huge count, inserted random bytes,
a flipped byte, an empty file) and the reader must either return data or raise ``DataError``. For the npz-based
readers half of the cases mutate one member's bytes (the ``.npy`` header, the data, the pickled dict) and zip the
archive again with valid CRCs (stored or deflated), so that the mutation reaches the member parser instead of
stopping at the zip checksum; the other half mutate the archive's raw bytes.

Every case runs in a worker process (one per reader and chunk) and counts as a failure when it

- raises anything but ``DataError``;
- allocates past the bound: a traced peak (``tracemalloc``, numpy's buffers included) over ``--bound-mib``, or a
  ``MemoryError`` anywhere in the exception chain (the worker's address space is capped at its size plus
  ``--bound-mib`` + 256 MiB, so an allocation the reader believed fails there);
- hangs: the worker reports after every case; one silent for ``--deadline`` seconds is killed, the case counted
  as a hang, and a new worker continues with the next case.

Case ``i`` of reader ``r`` draws its mutations from ``default_rng([seed, r, i])``, so a chunk gives the same
cases whenever it runs: the results of finished chunks are kept in ``--state`` (a folder of JSON files) and a
rerun skips them (resumable).

Usage::

    nice -n 10 python benchmarks/fuzz_readers.py --cases 10000 --state /tmp/fuzz-state \
        --out benchmarks/results/fuzz_readers.md
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
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
    h36m_3d = {"S1": {"Walking": rng.normal(size=(3, 32, 3)).astype(np.float32)}}
    h36m_2d = {"S1": {"Walking": [rng.normal(size=(3, 17, 2)).astype(np.float32) for _ in range(4)]}}
    h36m_meta = {"layout_name": "h36m", "num_joints": 17, "keypoints_symmetry": [[4, 5, 6], [1, 2, 3]]}
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
        "h36m 3d (VideoPose3D npz)": (_npz(positions_3d=np.array(h36m_3d, dtype=object)), "d3.npz", h36m.load_h36m_3d),
        "h36m 2d (VideoPose3D npz)": (
            _npz(positions_2d=np.array(h36m_2d, dtype=object), metadata=np.array(h36m_meta, dtype=object)),
            "d2.npz",
            h36m.load_h36m_2d,
        ),  # fmt: skip
    }


def mutate(seed: bytes, rng: np.random.Generator) -> bytes:
    """1-3 random byte/line/number mutations of ``seed``."""
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


def mutate_npz(seed: bytes, rng: np.random.Generator) -> bytes:
    """Half the cases: :func:`mutate` one member of the archive and zip it again (valid CRCs, stored or deflated);
    the other half: :func:`mutate` the archive's raw bytes."""
    if rng.random() < 0.5:
        return mutate(seed, rng)
    with zipfile.ZipFile(io.BytesIO(seed)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    names = list(members)
    target = names[int(rng.integers(0, len(names)))]
    members[target] = mutate(members[target], rng)
    buffer = io.BytesIO()
    compression = zipfile.ZIP_DEFLATED if rng.random() < 0.3 else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _classify(error: BaseException) -> str:
    """``DataError``, ``memory`` (a ``MemoryError`` anywhere in the chain, even one a reader turned into a
    ``DataError``) or ``other``."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        if isinstance(link, MemoryError):
            return "memory"
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return "DataError" if isinstance(error, DataError) else "other"


def worker(index: int, start: int, stop: int, seed: int, bound: int) -> None:
    """Run cases ``start..stop`` of reader ``index``; print one JSON line per case (outcome, traced peak bytes,
    seconds, message) as soon as it ends."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-worker-"))
    try:
        items = list(readers(folder, np.random.default_rng(seed)).items())
        name, (seed_bytes, filename, read) = items[index]
        path = (folder / "openpose" if "OpenPose" in name else folder) / filename
        change = mutate_npz if filename.endswith(".npz") else mutate
        with open("/proc/self/statm") as stream:
            current = int(stream.read().split()[0]) * resource.getpagesize()
        cap = current + bound + (256 << 20)
        resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
        tracemalloc.start()
        print(json.dumps({"ready": True}), flush=True)  # the deadline runs from here, not from the imports
        for case in range(start, stop):
            path.write_bytes(change(seed_bytes, np.random.default_rng([seed, index, case])))
            tracemalloc.reset_peak()
            began = time.perf_counter()
            outcome, message = "valid", ""
            try:
                read(path)
            except KeyboardInterrupt:
                raise
            except BaseException as error:  # noqa: BLE001  anything but DataError is what this benchmark counts
                outcome = _classify(error)
                if outcome != "DataError":
                    message = f"{type(error).__name__}: {str(error)[:160]}"
            peak = tracemalloc.get_traced_memory()[1]
            if peak > bound and outcome != "other":
                outcome, message = "memory", f"traced peak {peak / 2**20:.0f} MiB"
            record = {"case": case, "outcome": outcome, "peak": peak, "s": time.perf_counter() - began}
            if message:
                record["message"] = message
            print(json.dumps(record), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


STARTUP_S = 300
"""Seconds a worker may take to import numpy and skeletal and write the seed files (not a case: no deadline)."""


class Lines:
    """Lines of a worker's stdout, each waited for at most ``timeout`` seconds (unbuffered: ``select`` sees every
    byte not yet read, so a line already received is never waited for)."""

    def __init__(self, stream: Any):
        self.fd, self.buffer = stream.fileno(), b""

    def next(self, timeout: float) -> str | None:
        """The next line; ``""`` at end of file (the worker died), ``None`` after ``timeout`` s without one."""
        limit = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = limit - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return ""
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()


def run_chunk(index: int, start: int, stop: int, args: argparse.Namespace) -> dict[str, Any]:
    """Cases ``start..stop`` of reader ``index`` in worker processes; a worker silent for ``args.deadline`` s is
    killed (a hang) and a new one continues after that case."""
    counts = {"cases": 0, "valid": 0, "DataError": 0, "other": 0, "memory": 0, "hang": 0}
    peak, slowest, examples = 0, 0.0, []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    case = start
    while case < stop:
        command = [sys.executable, __file__, "--worker", str(index), str(case), str(stop), "--seed", str(args.seed),
                   "--bound-mib", str(args.bound_mib)]  # fmt: skip
        child = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, bufsize=0)
        lines = Lines(child.stdout)
        if not lines.next(STARTUP_S):  # imports, on a loaded machine
            child.kill()
            child.wait()
            raise RuntimeError(f"the worker did not start within {STARTUP_S} s (status {child.returncode})")
        while case < stop:
            line = lines.next(args.deadline)
            if not line:  # silent past the deadline (a hang), or the worker died (counted as another exception)
                hung = line is None
                child.kill()
                child.wait()
                counts["cases"] += 1
                counts["hang" if hung else "other"] += 1
                if len(examples) < 3:
                    examples.append(
                        f"case {case}: "
                        + ("no answer within the deadline" if hung else f"worker died with status {child.returncode}")
                    )
                case += 1
                break
            record = json.loads(line)
            counts["cases"] += 1
            counts[record["outcome"]] += 1
            peak, slowest = max(peak, record["peak"]), max(slowest, record["s"])
            if "message" in record and len(examples) < 3:
                examples.append(f"case {record['case']}: {record['message']}")
            case = record["case"] + 1
        else:
            child.wait()
    return {**counts, "peak": peak, "slowest_s": slowest, "examples": examples}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="mutated cases per reader")
    parser.add_argument("--chunk", type=int, default=2_000, help="cases per worker run and state file")
    parser.add_argument("--deadline", type=float, default=10.0, help="seconds without an answer that make a hang")
    parser.add_argument("--bound-mib", type=int, default=512, help="allocation bound per case (traced peak)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="substring of the reader names to run")
    parser.add_argument("--state", help="folder keeping finished chunks (a rerun skips them)")
    parser.add_argument("--out", help="write the table (markdown) here")
    parser.add_argument("--report-only", action="store_true", help="run nothing: the table of the chunks in --state")
    parser.add_argument("--worker", nargs=3, type=int, metavar=("READER", "START", "STOP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    bound = args.bound_mib << 20
    if args.worker:
        worker(*args.worker, seed=args.seed, bound=bound)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="fuzz-bench-"))
    try:
        names = []
        for name, (seed, filename, read) in readers(folder, np.random.default_rng(args.seed)).items():
            seed_path = (folder / "openpose" if "OpenPose" in name else folder) / filename
            seed_path.write_bytes(seed)
            read(seed_path)  # the seed itself is valid
            names.append(name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    state = Path(args.state or tempfile.mkdtemp(prefix="fuzz-state-"))
    state.mkdir(parents=True, exist_ok=True)
    rows, seconds = [], 0.0
    for index, name in enumerate(names):
        if args.only and args.only not in name:
            continue
        total: dict[str, Any] = {}
        for start in range(0, args.cases, args.chunk):
            stop = min(start + args.chunk, args.cases)
            file = state / f"seed{args.seed}-reader{index}-{start}-{stop}-bound{args.bound_mib}.json"
            if file.is_file():
                result = json.loads(file.read_text())
            elif args.report_only:
                continue
            else:
                began = time.time()
                result = {**run_chunk(index, start, stop, args), "wall_s": 0.0}
                result["wall_s"] = time.time() - began
                file.write_text(json.dumps(result))
            for key, value in result.items():
                if key in ("peak", "slowest_s"):
                    total[key] = max(total.get(key, 0), value)
                elif key == "examples":
                    total[key] = (total.get(key, []) + value)[:3]
                else:
                    total[key] = total.get(key, 0) + value
        if not total:
            continue
        seconds += total["wall_s"]
        rows.append((name, total))
        print(f"{name}: {total}", flush=True)
    lines = [
        f"# Reader fuzzing (`benchmarks/fuzz_readers.py --cases {args.cases} --seed {args.seed}`)",
        "",
        f"{args.cases} mutated cases per reader (npz readers: half member-level, re-zipped with valid CRCs), each "
        f"in a worker process whose address space is capped; a case counts as a hang when its worker gives no "
        f"answer for {args.deadline:g} s, as over the bound when its traced peak allocation exceeds "
        f"{args.bound_mib} MiB or a MemoryError occurs anywhere in its exception chain; {seconds:.0f} s of workers "
        f"in all.",
        "",
        "| reader | cases | read as valid | DataError | other exception | over the allocation bound | hang | "
        "largest traced peak (MiB) | slowest case (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in rows:
        cases = f"{r['cases']}" + ("" if r["cases"] >= args.cases else " (unfinished)")
        lines.append(f"| {name} | {cases} | {r['valid']} | {r['DataError']} | {r['other']} | {r['memory']} | "
                     f"{r['hang']} | {r['peak'] / 2**20:.1f} | {r['slowest_s']:.3f} |")  # fmt: skip
    failures = [f"- {name}: {e}" for name, r in rows for e in r["examples"]]
    lines += ["", "Failures (first 3 per reader):", *(failures or ["- none"])]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    return 1 if any(r["other"] or r["memory"] or r["hang"] for _, r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
