"""Distributed data parallel on CPU: two gloo processes train a few steps and end with identical weights."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import hashlib, os, sys
    import numpy as np
    import torch
    from torch import nn
    from skeletal import models
    from skeletal.config import from_dict
    from skeletal.tasks import SkeletonDataModule, train

    class Tiny(nn.Module):
        def __init__(self, num_classes: int = 4):
            super().__init__()
            self.linear = nn.Linear(3, num_classes)
            self.dropout = nn.Dropout(0.5)  # rank-dependent randomness must not desynchronise the weights

        def forward(self, x):
            return self.linear(self.dropout(x.mean(dim=(1, 2, 3))))

    models.register_model("ddp-tiny", "recognition")(Tiny)

    def digest(module):
        h = hashlib.sha256()
        for name, tensor in sorted(module.state_dict().items()):
            h.update(name.encode()); h.update(tensor.detach().cpu().numpy().tobytes())
        return h.hexdigest()

    out = sys.argv[1]
    rng = np.random.default_rng(0)
    split = {"x": rng.normal(size=(32, 1, 4, 5, 3)).astype(np.float32), "y": rng.integers(0, 4, 32)}
    config = from_dict({
        "task": "recognition", "name": "ddp", "output": out,
        "model": {"name": "ddp-tiny", "kwargs": {"num_classes": 4}},
        "trainer": {"max_epochs": 2, "accelerator": "cpu", "devices": 2, "strategy": "ddp",
                    "progress_bar": False, "log_every_n_steps": 1},
    })
    initial = digest(Tiny(4))
    result = train(config, datamodule=SkeletonDataModule("recognition", split, split, batch_size=4))
    rank = int(os.environ.get("LOCAL_RANK", "0"))
    steps = result.task.trainer.global_step
    with open(os.path.join(out, f"rank{rank}.txt"), "w") as stream:
        stream.write(f"{digest(result.task.model)} {steps} {result.task.trainer.world_size} {initial}")
    """
)


def test_two_cpu_processes_end_with_identical_weights(tmp_path: Path) -> None:
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [(tmp_path / f"rank{r}.txt").read_text().split() for r in (0, 1)]
    (hash0, steps0, world0, initial), (hash1, steps1, world1, _) = ranks
    assert world0 == world1 == "2"
    assert steps0 == steps1 == "8"  # 32 samples / (2 ranks x 4) = 4 steps per epoch, 2 epochs
    assert hash0 == hash1
    assert hash0 != initial  # training changed the weights
    assert (tmp_path / "ddp" / "model.safetensors").is_file()
