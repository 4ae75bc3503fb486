"""StreamingLifter: frame-by-frame output equals the causal whole-sequence output, in constant memory."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skeletal.errors import ConfigError, LayoutError, ShapeError
from skeletal.inference.streaming import StreamingLifter
from skeletal.models import create
from skeletal.models.lifting import predict_with_flip


def causal_model(name: str):
    model = create(name, causal=True).train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(2, model.receptive_field + 2, 17, 2) * 2 + 0.3)
    return model.eval()


@pytest.mark.parametrize("name", ["gast-net-27", "videopose3d-27"])
def test_streaming_equals_causal_whole_sequence(name: str) -> None:
    model = causal_model(name)
    sequence = torch.randn(1, 33, 17, 2)
    with torch.no_grad():
        expected = model.lift(sequence)[0]
    lifter = StreamingLifter(model)
    streamed = torch.stack([lifter.step(frame.numpy()) for frame in sequence[0]])
    assert streamed.shape == (33, 17, 3)
    assert (streamed - expected).abs().max() < 1e-5


def test_streaming_with_flip_averaging_and_reset() -> None:
    model = causal_model("gast-net-9")
    sequence = torch.randn(1, 14, 17, 2)
    with torch.no_grad():
        expected = predict_with_flip(model, sequence, padded=True)[0]
    lifter = StreamingLifter(model, flip=True)
    lifter.run(torch.randn(5, 17, 2))  # an earlier, unrelated stream
    assert (lifter.run(sequence[0]) - expected).abs().max() < 1e-5


def test_streaming_memory_is_constant() -> None:
    model = causal_model("gast-net-9")
    lifter = StreamingLifter(model)
    lifter.step(torch.randn(17, 2))
    sizes = [b.shape for b in lifter.buffers]
    assert [s[1] for s in sizes] == [3, 7]  # (k - 1) * dilation + 1 cached frames per stage
    for _ in range(20):
        lifter.step(torch.randn(17, 2))
    assert [b.shape for b in lifter.buffers] == sizes
    assert lifter.frames == 21


def test_streaming_rejects_symmetric_models_and_bad_frames() -> None:
    with pytest.raises(ConfigError, match="causal"):
        StreamingLifter(create("gast-net-9"))
    lifter = StreamingLifter(create("gast-net-9", causal=True))
    with pytest.raises(LayoutError, match="h36m17"):
        lifter.step(np.zeros((25, 2), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"\(V, 2\)"):
        lifter.step(np.zeros((1, 17, 2), dtype=np.float32))
    with pytest.raises(ShapeError, match="NaN"):
        lifter.step(np.full((17, 2), np.nan, dtype=np.float32))
