"""One-command preparation of Human3.6M, AMASS, HumanEva-I and the CMU benchmark for ``skeletal train``.

Every ``prepare_*`` function writes, under ``out_dir``:

- ``{split}/x.npy`` (and ``{split}/y.npy``), channels-last float32 arrays (labels int64) that
  :func:`skeletal.data.datasets.load_split` opens memory-mapped: set ``data.train: OUT/train`` and
  ``data.val: OUT/test`` (or ``OUT/val``). Shapes per task: lifting ``x (N, RF + chunk - 1, V, 2)`` screen
  normalised, ``y (N, chunk, V, 3)`` camera-frame metres relative to the root; prediction ``x (N, T, V, F)``
  local rotations (``F = 9``: row-major matrices by default); recognition ``x (N, 1, T, V, 3)``, ``y (N,)``.
- ``meta.json``: dataset, task, layout, fps, options, class names, and per split the *sequences* (subject,
  action, camera or take) with the range ``[first, first + count)`` of their windows, so windows never cross
  sequences and results can be reported per action.
- ``fingerprint.json``: per array its shape, dtype and sha256 (and the options), to check a copy is the same.
- ``skipped.json``: every input left out (a take too short for one window, a camera without video, a file that
  does not read...) with the reason. Nothing is dropped without being listed there.

Arrays are streamed to disk sequence by sequence (a raw part file, then the ``.npy`` header and the data), so
datasets larger than memory can be prepared.
"""

from skeletal.data.prepare.cmu import CMU_TASKS, prepare_cmu
from skeletal.data.prepare.lifting import LIFTING_RECEPTIVE_FIELD, prepare_h36m_lifting, prepare_humaneva
from skeletal.data.prepare.prediction import AMASS_SPLITS, prepare_amass, prepare_h36m_prediction

__all__ = [
    "AMASS_SPLITS",
    "CMU_TASKS",
    "LIFTING_RECEPTIVE_FIELD",
    "prepare_amass",
    "prepare_cmu",
    "prepare_h36m_lifting",
    "prepare_h36m_prediction",
    "prepare_humaneva",
]
