"""The machine the code runs on: its cores, its load, and how many torch threads to use on a shared one."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable


def cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def load_average() -> float:
    """The 1-minute load average (0 where the system does not report one)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def auto_threads() -> int:
    """Torch threads for a machine shared with other jobs: the cores minus the 1-minute load average, at least 1.

    Two threads on two cores that another job keeps busy are many times slower than one (every parallel region
    waits for the thread that is not scheduled), so a busy machine gets fewer threads.
    """
    import torch

    available = cores()
    return max(1, min(available, torch.get_num_threads(), int(available - load_average() + 0.5)))


def load_warning(threads: int) -> str | None:
    """A warning line when other jobs keep the cores busy (the load average leaves fewer than ``threads`` idle)."""
    available, load = cores(), load_average()
    if load + threads <= available + 0.5:
        return None
    return (f"warning: the machine is loaded (1-minute load average {load:.1f} on {available} cores, {threads} "
            "thread(s) here): timings are slower and noisier than on an idle machine")  # fmt: skip


def release_free_memory() -> None:
    """Give the C allocator's free memory back to the system (glibc ``malloc_trim``; nothing elsewhere).

    Long inputs processed in chunks allocate and free the same large activation buffers many times; glibc keeps
    the freed pages in its heap, so the resident memory of a 100,000-frame lift grew to ~4x what one chunk
    needs (``benchmarks/bench_long_inputs.py``). Trimming after each chunk keeps it at one chunk's worth.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS, Windows)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None
