"""ST-TR where the paper is silent: the official code's choices (issue 13, items 1-8).

Each test writes the official computation from its definition in ``Chiaraplizz/ST-TR`` (``code/st_gcn/net``) in a
few lines of channels-first torch and compares it with the library on the same weights. The whole models are
compared with the official code itself by ``benchmarks/official_st_tr.py --check`` (which needs a local copy of
that repository; see ``benchmarks/results/official-st-tr-check-*.md``).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from skeletal.errors import ConfigError, UnsafeFileError
from skeletal.models import count_parameters, create, info, names
from skeletal.models.recognition import TwoStream, load_official, ten_layers
from skeletal.models.recognition.official import convert_official
from skeletal.nn.augmented_attention import AugmentedSpatialAttention, AugmentedTemporalAttention
from skeletal.nn.graph_conv import AdaptiveGraphConv, PartitionedProjection
from skeletal.nn.self_attention import AxisSelfAttention, TemporalSelfAttention
from skeletal.skeletons import agcn_partitions

torch.set_default_dtype(torch.float32)
DOUBLE = torch.float64


def _random_norms(model: nn.Module, seed: int = 0) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                size = module.num_features
                module.running_mean.copy_(0.1 * torch.randn(size, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(size, generator=generator))
                module.weight.copy_(0.5 + torch.rand(size, generator=generator))
                module.bias.copy_(0.1 * torch.randn(size, generator=generator))


def _softmax_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, scale_channels: int):
    """Official multi-head attention over the last axis of ``(B, C, L)`` channel-first q, k, v: heads split
    channel-major (``split_heads_2d``), ``q * (dk // Nh) ** -0.5``, softmax over keys, heads concatenated."""
    b, _, length = q.shape
    qh, kh, vh = (t.reshape(b, heads, -1, length) for t in (q, k, v))
    logits = (qh * scale_channels**-0.5).transpose(2, 3) @ kh
    out = torch.softmax(logits, -1) @ vh.transpose(2, 3)  # (B, H, L, d_v / H)
    return out.permute(0, 1, 3, 2).reshape(b, -1, length)


# 1. Wide attention of the augmented variants: 1 / sqrt(d_k / N_h), not 1 / sqrt(head width).


@pytest.mark.parametrize("axis", ["joints", "frames"])
def test_wide_attention_uses_official_scale(axis: str) -> None:
    torch.manual_seed(0)
    d_k, heads, factor = 16, 8, 2  # each head holds 4 channels, the official scale divides by sqrt(2)
    attention = AxisSelfAttention(12, d_k, d_k, heads, axis, width_factor=factor, key_scale_channels=d_k // heads)
    attention = attention.double().eval()
    x = torch.randn(2, 7, 5, 12, dtype=DOUBLE)  # (N, T, V, C)
    ours, _ = attention(x)
    qkv = x @ attention.qkv.weight.T + attention.qkv.bias
    q, k, v = qkv.split([d_k * factor] * 3, dim=-1)
    pattern = (0, 1, 3, 2) if axis == "joints" else (0, 2, 3, 1)  # sequences over joints or over frames
    q, k, v = (t.permute(*pattern).reshape(-1, t.shape[-1], t.shape[2 if axis == "joints" else 1]) for t in (q, k, v))
    attended = _softmax_attention(q, k, v, heads, d_k // heads)  # (S, C, L)
    if axis == "joints":
        attended = attended.reshape(2, 7, -1, 5).permute(0, 1, 3, 2)
    else:
        attended = attended.reshape(2, 5, -1, 7).permute(0, 3, 1, 2)
    expected = attended @ attention.merge.weight.T + attention.merge.bias
    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-12)
    assert attention.query_scale == pytest.approx(math.sqrt(2.0))


def test_augmented_modules_pass_the_official_scale() -> None:
    spatial = AugmentedSpatialAttention(16, 64, agcn_partitions("ntu25"))
    temporal = AugmentedTemporalAttention(64, 64, 25)
    for module in (spatial, temporal):
        head = module.attention.splits[0] // module.attention.heads  # 2 * 16 / 8 = 4 channels per head
        assert head == 4 and module.attention.query_scale == pytest.approx(math.sqrt(head / 2))
    plain = create("s-tr", width=16).units[4].spatial.attention
    assert plain.query_scale == 1.0


# 2. Coordinates concatenated at the official backbone unit 3.


@pytest.mark.parametrize(("name", "unit"), [("s-tr", 4), ("t-tr-all-layers", 3), ("s-tr-all-layers", 3)])
def test_coordinates_enter_official_unit(name: str, unit: int) -> None:
    torch.manual_seed(0)
    model = create(name, width=32, num_classes=4, window_size=20).eval()
    seen: dict[str, torch.Tensor] = {}
    model.units[unit].register_forward_pre_hook(lambda module, given: seen.__setitem__("x", given[0]))
    x = torch.randn(1, 2, 20, 25, 3)
    model(x)
    coordinates = x.reshape(2, 20, 25, 3)  # (n m) t v c
    torch.testing.assert_close(seen["x"][..., -3:], coordinates)
    widths = [u.spatial.data_bn.num_features // 25 if hasattr(u.spatial, "data_bn") else None for u in model.units]
    if name == "s-tr-all-layers":
        assert widths[unit] == 32 + 3 and widths[unit - 1] == 32


# 3. All-layers temporal windows: official blocks of 10 frames at the first width only; the paper's blocks.


def test_official_and_paper_windows() -> None:
    official = ten_layers(3, 64, temporal_attention="tsa", all_layers=True)
    assert [s.window_frames for s in official] == [10] * 4 + [None] * 6
    assert all(s.windows is None for s in official)
    bones = ten_layers(6, 128, temporal_attention="tsa", all_layers=True)  # official dim_block2 at 128 channels
    assert [s.window_frames for s in bones] == [30] * 4 + [None] * 6
    paper = ten_layers(3, 64, temporal_attention="tsa", all_layers=True, windows="paper")
    assert [s.windows for s in paper] == [10] * 7 + [None] * 3 and all(s.window_frames is None for s in paper)
    model = create("t-tr-all-layers")
    assert [u.temporal.attention.window_frames for u in model.units] == [10] * 4 + [None] * 6
    assert create("t-tr-all-layers", windows="paper").units[5].temporal.attention.windows == 10
    with pytest.raises(ConfigError, match="windows"):
        create("t-tr-all-layers", windows="blocks")


def _official_tsa(module: TemporalSelfAttention, x: torch.Tensor, block: int | None) -> torch.Tensor:
    """``tcn_unit_attention(_block)`` with only_temporal_attention, channel-first ``x (N, C, T, V)``, eval mode;
    ``block``: frames per window (the official loop over ``T // block`` blocks, a shorter last one here)."""
    n, c, t, v = x.shape
    bn = module.data_bn  # ours ordered (joint, channel); the official (channel, joint)
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).reshape(v, c).T
    shift = (bn.bias - bn.running_mean * bn.weight / torch.sqrt(bn.running_var + bn.eps)).reshape(v, c).T
    normalized = x * scale[None, :, None, :] + shift[None, :, None, :]
    sequences = normalized.permute(0, 3, 1, 2).reshape(n * v, c, t)  # each joint along the frames
    attention = module.attention
    stride = attention.stride
    weight = attention.qkv.weight if isinstance(attention.qkv, nn.Linear) else attention.qkv.weight[..., 0]
    weight = weight.reshape(weight.shape[0], c, -1)  # (out, in, kernel)
    qkv = torch.nn.functional.conv1d(sequences, weight, attention.qkv.bias, stride=stride)
    d_k, _, d_v = attention.splits
    q, k, val = qkv.split([d_k, d_k, d_v], dim=1)
    frames = q.shape[-1]
    size = block or frames
    parts = [
        _softmax_attention(q[..., s : s + size], k[..., s : s + size], val[..., s : s + size], attention.heads,
                           d_k // attention.heads)
        for s in range(0, frames, size)
    ]  # fmt: skip
    attended = torch.cat(parts, dim=-1)  # (N V, d_v, T')
    merged = torch.einsum("oc,bct->bot", attention.merge.weight, attended) + attention.merge.bias[:, None]
    merged = merged.reshape(n, v, -1, frames).permute(0, 2, 3, 1)  # (N, C, T', V)
    residual = x if module.residual is None else module.residual(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    out_bn = module.bn
    y = (merged + residual - out_bn.running_mean[:, None, None]) / torch.sqrt(out_bn.running_var + out_bn.eps)[
        :, None, None
    ] * out_bn.weight[:, None, None] + out_bn.bias[:, None, None]
    return torch.relu(y)


def test_windowed_tsa_equals_blocks_of_frames() -> None:
    torch.manual_seed(0)
    module = TemporalSelfAttention(32, 32, 5, heads=8, window_frames=10).double().eval()
    _random_norms(module)
    x = torch.randn(2, 23, 5, 32, dtype=DOUBLE)  # 23 frames: blocks of 10, 10 and 3
    expected = _official_tsa(module, x.permute(0, 3, 1, 2), block=10)
    torch.testing.assert_close(module(x), expected.permute(0, 2, 3, 1), rtol=1e-12, atol=1e-12)


# 4. Strided TSA on skeletons with an even joint count: a 1-frame kernel with stride 2.


@pytest.mark.parametrize(("joints", "kernel", "frames"), [(18, 1, 11), (25, 2, 12)])
def test_strided_tsa_kernel_follows_joint_parity(joints: int, kernel: int, frames: int) -> None:
    torch.manual_seed(0)
    module = TemporalSelfAttention(16, 32, joints, stride=2, heads=8).double().eval()
    _random_norms(module)
    assert module.attention.kernel == kernel and module.attention.qkv.weight.shape[2] == kernel
    x = torch.randn(2, frames, joints, 16, dtype=DOUBLE)  # 11 frames: the 1-frame kernel gives ceil(11 / 2)
    expected = _official_tsa(module, x.permute(0, 3, 1, 2), block=None)
    torch.testing.assert_close(module(x), expected.permute(0, 2, 3, 1), rtol=1e-12, atol=1e-12)


def test_kinetics_preset_parameter_count_is_official() -> None:
    # benchmarks/results/official-st-tr-check-*.md: the official T-TR and S-TR on Kinetics (18 joints, 400 classes)
    # count 1,708,128 and 3,145,540 parameters, 512 of them in the unused person_bn.
    for name, official in (("t-tr", 1_708_128), ("s-tr", 3_145_540)):
        model = create(name, skeleton="openpose18", num_classes=400, dropout=0.0, window_size=150)
        assert count_parameters(model) + 512 == official


# 5. Two-stream fusion.


def test_two_stream_fusion_rules() -> None:
    torch.manual_seed(0)
    spatial, temporal = create("st-gcn", width=32, num_classes=5), create("t-tr", width=32, num_classes=5)
    x = torch.randn(3, 2, 16, 25, 3)
    with torch.no_grad():
        first, second = spatial.eval()(x), temporal.eval()(x)
        paper = TwoStream(spatial, temporal).eval()
        official = TwoStream(spatial, temporal, fusion="logits").eval()
        torch.testing.assert_close(paper(x), first.softmax(-1) + second.softmax(-1))
        torch.testing.assert_close(official(x), first + second)  # ensemble.py: r = r11 + r22 * alpha, alpha 1
    assert paper.outputs_probabilities and not official.outputs_probabilities
    assert create("st-tr", width=32, fusion="logits").fusion == "logits"
    with pytest.raises(ConfigError, match="fusion"):
        TwoStream(spatial, temporal, fusion="mean")  # type: ignore[arg-type]


# 7. Initialisation of the adaptive graph convolution and of the partition convolutions.


def test_adaptive_graph_conv_initialisation() -> None:
    torch.manual_seed(0)
    in_channels, out_channels, partitions = 64, 256, 3
    module = AdaptiveGraphConv(in_channels, out_channels, agcn_partitions("ntu25"))
    # conv_init (kaiming_normal_, fan_out) of each C_in -> C_e = 64 embedding: std sqrt(2 / 64)
    assert module.embed.weight.std().item() == pytest.approx(math.sqrt(2 / 64), rel=0.03)
    # conv_branch_init: std sqrt(2 / (C_out C_in K))
    std = math.sqrt(2 / (out_channels * in_channels * partitions))
    assert module.projection.weight.std().item() == pytest.approx(std, rel=0.03)
    assert module.projection.bias.abs().max() == 0 and module.embed.bias.abs().max() == 0
    down = module.down[0]
    assert down.weight.std().item() == pytest.approx(math.sqrt(2 / out_channels), rel=0.03)
    assert down.bias.abs().max() == 0 and module.down[1].weight.eq(1).all()
    assert module.bn.weight.eq(1e-6).all()
    # unit_gcn's partition convolutions: conv_init sets the weights only, the bias keeps PyTorch's default
    projection = PartitionedProjection(64, 128, 3)
    bound = 1 / math.sqrt(64)
    assert projection.bias.abs().max() <= bound and projection.bias.std().item() == pytest.approx(
        bound / math.sqrt(3), rel=0.1
    )


# 8 (and 6). Official checkpoints, written here with the official architecture's key names.


def _conv(state: dict, key: str, out: int, inp: int, kh: int = 1, kw: int = 1, g=None) -> None:
    state[f"{key}.weight"] = torch.randn(out, inp, kh, kw, generator=g) / math.sqrt(inp * kh * kw)
    state[f"{key}.bias"] = 0.1 * torch.randn(out, generator=g)


def _bn(state: dict, key: str, size: int, g=None) -> None:
    state[f"{key}.weight"] = 0.5 + torch.rand(size, generator=g)
    state[f"{key}.bias"] = 0.1 * torch.randn(size, generator=g)
    state[f"{key}.running_mean"] = 0.1 * torch.randn(size, generator=g)
    state[f"{key}.running_var"] = 0.5 + torch.rand(size, generator=g)
    state[f"{key}.num_batches_tracked"] = torch.tensor(7)


def _unit2d(state: dict, key: str, out: int, inp: int, kernel: int, g=None) -> None:
    _conv(state, f"{key}.conv", out, inp, kernel, 1, g)
    _bn(state, f"{key}.bn", out, g)


def official_state(stream: str, joints: int = 25, classes: int = 60, seed: int = 0) -> dict[str, torch.Tensor]:
    """An official ``st_gcn.net.ST_GCN`` state dict of ``s-tr``, ``t-tr`` or ``t-tr-agcn`` on NTU (joints
    only): gcn0 / tcn0 and the nine ``backbone`` units of ``default_backbone``, ``concat_original`` at unit 3."""
    g = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    _bn(state, "data_bn", 3 * joints * 2, g)
    agcn = stream == "t-tr-agcn"

    def graph(key: str, inp: int, out: int) -> None:
        if agcn:  # unit_agcn
            state[f"{key}.PA"] = 1e-6 + 0.1 * torch.randn(3, joints, joints, generator=g)
            for k in range(3):
                _conv(state, f"{key}.conv_a.{k}", out // 4, inp, g=g)
                _conv(state, f"{key}.conv_b.{k}", out // 4, inp, g=g)
                _conv(state, f"{key}.conv_d.{k}", out, inp, g=g)
            if inp != out:
                _conv(state, f"{key}.down.0", out, inp, g=g)
                _bn(state, f"{key}.down.1", out, g)
        else:  # unit_gcn with mask_learning
            state[f"{key}.mask"] = 1 + 0.1 * torch.randn(3, joints, joints, generator=g)
            for k in range(3):
                _conv(state, f"{key}.conv_list.{k}", out, inp, g=g)
        _bn(state, f"{key}.bn", out, g)

    graph("gcn0", 3, 64)
    _unit2d(state, "tcn0", 64, 64, 9, g)
    shapes = [(64, 64, 1)] * 3 + [(64, 128, 2)] + [(128, 128, 1)] * 2 + [(128, 256, 2)] + [(256, 256, 1)] * 2
    for index, (inp, out, stride) in enumerate(shapes):
        inp += 3 if index == 3 else 0
        key = f"backbone.{index}"
        if stream == "s-tr" and out >= 128:  # gcn_unit_attention, only_attention
            _bn(state, f"{key}.gcn1.data_bn", inp * joints, g)
            _conv(state, f"{key}.gcn1.attention_conv.qkv_conv", out // 4 * 2 + out, inp, g=g)
            _conv(state, f"{key}.gcn1.attention_conv.attn_out", out, out, g=g)
            _bn(state, f"{key}.gcn1.bn", out, g)
        else:
            graph(f"{key}.gcn1", inp, out)
        if stream != "s-tr" and out >= 128:  # tcn_unit_attention, kernel (1, stride) on 25 joints
            _bn(state, f"{key}.tcn1.data_bn", out * joints, g)
            _conv(state, f"{key}.tcn1.qkv_conv", out // 4 * 2 + out, out, 1, stride, g)
            _conv(state, f"{key}.tcn1.attn_out", out, out, g=g)
            if stride != 1:
                _unit2d(state, f"{key}.tcn1.down", out, out, 1, g)
            _bn(state, f"{key}.tcn1.bn", out, g)
        else:
            _unit2d(state, f"{key}.tcn1", out, out, 9, g)
        if inp != out or stride != 1:
            _unit2d(state, f"{key}.down1", out, inp, 1, g)
    _bn(state, "person_bn", 256, g)  # built, never used by the official forward
    state["fcn.weight"] = torch.randn(classes, 256, 1, generator=g)
    state["fcn.bias"] = torch.randn(classes, generator=g)
    return state


def _official_agcn(state: dict, key: str, x: torch.Tensor) -> torch.Tensor:
    """``unit_agcn.forward`` on channel-first ``x (N, C, T, V)``, with the official graph ``A = 1e-6``."""
    n, c, t, v = x.shape
    graph = torch.full((3, v, v), 1e-6, dtype=x.dtype) + state[f"{key}.PA"].to(x.dtype)

    def conv(name: str, inp: torch.Tensor) -> torch.Tensor:
        w, b = state[f"{name}.weight"].to(x.dtype), state[f"{name}.bias"].to(x.dtype)
        return torch.einsum("oc,nctv->notv", w[:, :, 0, 0], inp) + b[:, None, None]

    def norm(name: str, inp: torch.Tensor) -> torch.Tensor:
        w, b, mean, var = (state[f"{name}.{p}"].to(x.dtype) for p in ("weight", "bias", "running_mean", "running_var"))
        return (inp - mean[:, None, None]) / torch.sqrt(var[:, None, None] + 1e-5) * w[:, None, None] + b[:, None, None]

    y = 0
    for k in range(3):
        a1 = conv(f"{key}.conv_a.{k}", x).permute(0, 3, 1, 2).reshape(n, v, -1)
        a2 = conv(f"{key}.conv_b.{k}", x).reshape(n, -1, v)
        similarity = torch.softmax(a1 @ a2 / a1.shape[-1], dim=-2) + graph[k]
        y = y + conv(f"{key}.conv_d.{k}", (x.reshape(n, c * t, v) @ similarity).reshape(n, c, t, v))
    down = norm(f"{key}.down.1", conv(f"{key}.down.0", x)) if f"{key}.down.0.weight" in state else x
    return torch.relu(norm(f"{key}.bn", y) + down)


def _official_ssa(state: dict, key: str, x: torch.Tensor, heads: int = 8) -> torch.Tensor:
    """``gcn_unit_attention.forward`` (only_attention, skip when C_in = C_out) on ``x (N, C, T, V)``."""
    n, c, t, v = x.shape
    p = {name: value.to(x.dtype) for name, value in state.items() if name.startswith(key)}
    bn = [p[f"{key}.data_bn.{s}"] for s in ("weight", "bias", "running_mean", "running_var")]
    flat = x.permute(0, 1, 3, 2).reshape(n, c * v, t)  # official (channel, joint) order
    flat = (flat - bn[2][:, None]) / torch.sqrt(bn[3][:, None] + 1e-5) * bn[0][:, None] + bn[1][:, None]
    normalized = flat.reshape(n, c, v, t).permute(0, 1, 3, 2)
    frames = normalized.permute(0, 2, 1, 3).reshape(n * t, c, v)
    w, b = p[f"{key}.attention_conv.qkv_conv.weight"][:, :, 0, 0], p[f"{key}.attention_conv.qkv_conv.bias"]
    qkv = torch.einsum("oc,bcv->bov", w, frames) + b[:, None]
    out_channels = p[f"{key}.attention_conv.attn_out.weight"].shape[0]
    d_k = (qkv.shape[1] - out_channels) // 2
    q, k, val = qkv.split([d_k, d_k, out_channels], dim=1)
    attended = _softmax_attention(q, k, val, heads, d_k // heads)
    w, b = p[f"{key}.attention_conv.attn_out.weight"][:, :, 0, 0], p[f"{key}.attention_conv.attn_out.bias"]
    y = (torch.einsum("oc,bcv->bov", w, attended) + b[:, None]).reshape(n, t, -1, v).permute(0, 2, 1, 3)
    if c == out_channels:
        y = y + x
    bn = [p[f"{key}.bn.{s}"] for s in ("weight", "bias", "running_mean", "running_var")]
    y = (y - bn[2][:, None, None]) / torch.sqrt(bn[3][:, None, None] + 1e-5) * bn[0][:, None, None]
    return torch.relu(y + bn[1][:, None, None])


def _inputs_of(model: nn.Module, x: torch.Tensor) -> dict[int, torch.Tensor]:
    seen: dict[int, torch.Tensor] = {}
    for index, unit in enumerate(model.units):
        unit.register_forward_pre_hook(lambda module, given, i=index: seen.__setitem__(i, given[0]))
    with torch.no_grad():
        model(x)
    return seen


def test_load_official_agcn_checkpoint_gives_official_blocks(tmp_path: Path) -> None:
    state = official_state("t-tr-agcn")
    path = tmp_path / "ntu60_xsub_temporal-agcn.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    model = load_official(path, "t-tr-agcn")
    for unit in model.units:
        assert unit.spatial.adjacency.eq(torch.tensor(1e-6)).all()  # the official unit_agcn graph
    model = model.double()
    x = torch.randn(1, 2, 12, 25, 3, dtype=DOUBLE)
    inputs = _inputs_of(model, x)
    for index, key in ((0, "gcn0"), (4, "backbone.3.gcn1")):
        given = inputs[index]
        with torch.no_grad():
            ours = model.units[index].spatial(given)
        expected = _official_agcn(state, key, given.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-10)
    physical = load_official(path, "t-tr-agcn", official_agcn_graph=False)
    torch.testing.assert_close(physical.units[1].spatial.adjacency, torch.as_tensor(agcn_partitions("ntu25")))


def test_load_official_stream_checkpoint_maps_every_block(tmp_path: Path) -> None:
    state = official_state("s-tr", classes=5)
    wrapped = {"epoch": 3, "model_state_dict": {f"module.{k}": v for k, v in state.items()}}
    path = tmp_path / "ntu60_xsub_spatial.pt"
    torch.save(wrapped, path)
    with pytest.raises(UnsafeFileError, match="pickle"):
        load_official(path, "s-tr")
    model = load_official(path, "s-tr", allow_pickle=True).double()
    assert model.classifier.out_features == 5  # from the checkpoint
    x = torch.randn(1, 2, 12, 25, 3, dtype=DOUBLE)
    inputs = _inputs_of(model, x)
    for index in (5, 8):  # SSA at 128 and 256 channels, skip connection kept
        given = inputs[index]
        with torch.no_grad():
            ours = model.units[index].spatial(given)
        expected = _official_ssa(state, f"backbone.{index - 1}.gcn1", given.permute(0, 3, 1, 2))
        torch.testing.assert_close(ours, expected.permute(0, 2, 3, 1), rtol=1e-10, atol=1e-10)
    unit = model.units[1].spatial  # unit_gcn: mask and partition convolutions
    torch.testing.assert_close(unit.mask, state["backbone.0.gcn1.mask"].double())
    partition = state["backbone.0.gcn1.conv_list.2.weight"][:, :, 0, 0]
    torch.testing.assert_close(unit.projection.weight[2], partition.T.double())
    torch.testing.assert_close(model.classifier.weight, state["fcn.weight"][..., 0].double())


def test_load_official_temporal_stream_runs_official_tsa(tmp_path: Path) -> None:
    state = official_state("t-tr")
    path = tmp_path / "t.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    model = load_official(path, "t-tr").double()
    inputs = _inputs_of(model, torch.randn(1, 2, 12, 25, 3, dtype=DOUBLE))
    for index in (4, 6):  # strided (1, 2) kernel, and full width
        spatial = model.units[index].spatial
        with torch.no_grad():
            given = spatial(inputs[index])
            ours = model.units[index].temporal(given)
        expected = _official_tsa(model.units[index].temporal, given.permute(0, 3, 1, 2), None)
        torch.testing.assert_close(ours, expected.permute(0, 2, 3, 1), rtol=1e-10, atol=1e-10)
    qkv = model.units[4].temporal.attention.qkv.weight  # ours (out, in, 2, 1), official (out, in, 1, 2)
    torch.testing.assert_close(qkv, state["backbone.3.tcn1.qkv_conv.weight"].transpose(-1, -2).double())


def test_load_official_errors(tmp_path: Path) -> None:
    state = official_state("t-tr")
    model = create("t-tr")
    with pytest.raises(ConfigError, match="no counterpart"):
        convert_official({**state, "backbone.9.gcn1.mask": torch.ones(3, 25, 25)}, model)
    del state["backbone.2.tcn1.conv.weight"]
    with pytest.raises(ConfigError, match="backbone.2.tcn1.conv.weight"):
        convert_official(state, model)
    with pytest.raises(ConfigError, match="shape"):
        convert_official(official_state("t-tr", classes=5), model)
    with pytest.raises(ConfigError, match="one stream"):
        load_official(tmp_path / "x.safetensors", "st-tr")


def test_registered_counts_equal_the_official_code() -> None:
    """``skeletal models`` shows the official count: ours plus the official ``person_bn`` (2 x last width)."""
    for name in names("recognition", builtin_only=True):
        reference = info(name).reference_parameters
        assert reference is not None, name
        model = create(name)
        streams = list(model.children()) if isinstance(model, TwoStream) else [model]
        person_bn = sum(2 * stream.classifier.in_features for stream in streams)
        assert count_parameters(model) + person_bn == reference, name
