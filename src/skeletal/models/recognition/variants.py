"""Registered recognition models: ST-TR streams and variants, and the baselines they are compared with.

Every builder takes ``num_classes=60, skeleton="ntu25", in_channels=3, num_persons=2`` and keyword overrides of
:class:`~skeletal.models.recognition.network.BlockOptions` (``heads``, ``key_factor``, ``drop_attention``,
``dropout``, ``kernel_size``, ``relative``, ``window_size``), ``partitions`` (``"agcn"``: identity, inward,
outward, the graph of the official ST-TR code, the default; ``"stgcn"``: ST-GCN's spatial partitions) and
``concat_input`` (official ``concat_original``, default True) and ``windows`` (the temporal windows of the
all-layers variants, below). Kinetics: ``skeleton="openpose18",
in_channels=3, num_classes=400`` (and ``dropout=0, window_size=150`` as the official Kinetics configuration).

Each ``NAME`` also exists as ``NAME-bones``: joint and bone coordinates concatenated (``in_channels=6``) and every
width doubled (journal section V-C, official ``double_channel``).

| name | journal table | spatial / temporal blocks |
| --- | --- | --- |
| ``st-gcn`` | I-a, IV | GCN / TCN (Yan et al. 2018) |
| ``st-gcn-fc`` | I-a | GCN on the all-ones ``A_fc`` / TCN |
| ``agcn`` | I-a (1s-AGCN) | adaptive GCN (Eq. 3) / TCN |
| ``s-tr`` | I-a, II-a | SSA in the six layers of 128 and 256 channels / TCN |
| ``t-tr`` | I-a, II-a | GCN / TSA in those six layers |
| ``t-tr-agcn`` | II-a, III | adaptive GCN / TSA |
| ``st-tr-1s`` | II-b | SSA then TSA in those six layers, one stream (section V-F) |
| ``s-tr-all-layers`` | II-b | SSA in all ten layers (section V-D) |
| ``t-tr-all-layers`` | II-b | TSA in all ten layers, windowed (``windows``) |
| ``s-tr-augmented`` | II-b | GCN (0.75) concatenated with wide SSA (0.25) (appendix B) |
| ``t-tr-augmented`` | II-b | TCN (0.75) concatenated with wide TSA (0.25) |

Windows of the all-layers TSA (journal section V-D, ``d_block = 10``), ``windows=``:

- ``"official"`` (default): as ``tcn_unit_attention_block`` of the official code (``st_gcn.py`` line 388-403):
  only the four layers of the first width ``w`` are windowed, in blocks of ``dim_block`` *frames* chosen by
  their width (``dim_block1/2/3 = 10/30/75`` for 64/128/256 channels: 10 frames, 30 with bones); the layers of
  ``2w`` and ``4w`` channels attend over all their frames. Widths the official code has no block size for
  (``width=16``) use 10 frames.
- ``"paper"``: ``d_block = 10`` read as 10 blocks of frames in the layers of ``w`` and ``2w`` channels, full
  attention at ``4w``.
- a tuple ``(b_w, b_2w, b_4w)`` of block counts per width (1: full attention).

Parameter counts (``reference_parameters``, shown by ``skeletal models``) are those of the official model
built with the same configuration (``benchmarks/official_st_tr.py``), without its ``person_bn``, which the
official forward never uses.

Deliberate differences from the official code, all with the official behaviour available:
the AGCN variants use the physical graph (the official ``unit_agcn`` erases it, see
:class:`~skeletal.nn.graph_conv.AdaptiveGraphConv`; :func:`~skeletal.models.recognition.official.load_official`
reproduces the erasure), and the two streams are fused by summed softmax scores as the paper says
(:class:`~skeletal.models.recognition.two_stream.TwoStream`, ``fusion="logits"`` for the official script).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal

from skeletal.errors import ConfigError
from skeletal.models.recognition.network import BlockOptions, LayerSpec, SpatialKind, SpatialTemporalNet, TemporalKind
from skeletal.models.registry import register_model
from skeletal.nn.graph_conv import ones_adjacency
from skeletal.skeletons import Skeleton, agcn_partitions, get, stgcn_partitions

JOURNAL = "Plizzari et al., Skeleton-based action recognition via spatial and temporal transformer networks"
OFFICIAL_BLOCK_FRAMES = {64: 10, 128: 30, 256: 75}
"""Official ``dim_block1/2/3``: frames per window of a windowed TSA by its output channels."""
WindowMode = Literal["official", "paper"]


def ten_layers(
    in_channels: int,
    width: int = 64,
    graph: SpatialKind = "gcn",
    spatial_attention: SpatialKind | None = None,
    temporal_attention: TemporalKind | None = None,
    all_layers: bool = False,
    windows: WindowMode | tuple[int, int, int] = "official",
) -> list[LayerSpec]:
    """The ten layers of ST-GCN/ST-TR: ``in -> w``, ``w`` x3, ``2w`` stride 2, ``2w`` x2, ``4w`` stride 2, ``4w`` x2.

    Args:
        in_channels: Input channels.
        width: ``w`` (64; 128 with bones).
        graph: Spatial block where no spatial attention is used (``gcn`` or ``agcn``).
        spatial_attention: Spatial block of the attention layers, if any.
        temporal_attention: Temporal block of the attention layers, if any.
        all_layers: Attention in every layer (the first one becomes a residual unit); otherwise only in the
            layers of ``2w`` and ``4w`` channels and the first layer is the stem.
        windows: Windows of the TSA when ``all_layers`` (journal V-D): ``"official"``, ``"paper"`` or block
            counts at widths ``w``, ``2w``, ``4w`` (see the module docstring).
    """
    if windows == "paper":
        windows = (10, 10, 1)
    elif windows != "official" and (
        not isinstance(windows, tuple) or len(windows) != 3 or not all(isinstance(b, int) and b > 0 for b in windows)
    ):
        raise ConfigError(f"windows must be 'official', 'paper' or three positive block counts, got {windows!r}")
    shape = [(in_channels, width, 1)] + [(width, width, 1)] * 3
    shape += [(width, 2 * width, 2)] + [(2 * width, 2 * width, 1)] * 2
    shape += [(2 * width, 4 * width, 2)] + [(4 * width, 4 * width, 1)] * 2
    stage = {width: 0, 2 * width: 1, 4 * width: 2}
    layers = []
    for index, (cin, cout, stride) in enumerate(shape):
        attention = all_layers or cout >= 2 * width
        temporal = temporal_attention if attention and temporal_attention else "tcn"
        windowed = all_layers and temporal == "tsa"
        blocks = frames = None
        if windowed and windows == "official":
            frames = OFFICIAL_BLOCK_FRAMES.get(width, 10) if cout == width else None
        elif windowed and isinstance(windows, tuple):
            blocks = windows[stage[cout]]
        layers.append(
            LayerSpec(
                cin, cout, stride,
                spatial=spatial_attention if attention and spatial_attention else graph,
                temporal=temporal,
                windows=None if blocks == 1 else blocks,
                window_frames=frames,
                stem=index == 0 and not all_layers,
            )
        )  # fmt: skip
    return layers


@dataclass(frozen=True)
class Variant:
    """How a registered name composes the stack (see the module table)."""

    graph: SpatialKind = "gcn"
    spatial_attention: SpatialKind | None = None
    temporal_attention: TemporalKind | None = None
    all_layers: bool = False
    fully_connected: bool = False
    reference_parameters: int | None = None
    reference_bones: int | None = None
    paper: str = ""


VARIANTS: dict[str, Variant] = {
    "st-gcn": Variant(
        reference_parameters=3_101_030, reference_bones=12_290_514,
        paper="ST-GCN (Yan et al. 2018), ST-TR journal Table I-a",
    ),
    "st-gcn-fc": Variant(
        fully_connected=True, reference_parameters=2_650_386, reference_bones=10_531_070,
        paper="ST-GCN (fc), Table I-a",
    ),
    "agcn": Variant(
        graph="agcn", reference_parameters=3_472_518, reference_bones=13_769_554,
        paper="1s-AGCN (Shi et al. 2019), Table I-a",
    ),
    "s-tr": Variant(
        spatial_attention="ssa", reference_parameters=3_075_338, reference_bones=12_126_348,
        paper=f"S-TR, {JOURNAL}, Table I-a",
    ),
    "t-tr": Variant(
        temporal_attention="tsa", reference_parameters=1_768_870, reference_bones=6_840_914,
        paper=f"T-TR, {JOURNAL}, Table I-a",
    ),
    "t-tr-agcn": Variant(
        graph="agcn", temporal_attention="tsa", reference_parameters=2_140_358, reference_bones=8_319_954,
        paper=f"T-TR-agcn, {JOURNAL}, Table II-a",
    ),
    "st-tr-1s": Variant(  # the paper prints 17.4e5
        spatial_attention="ssa", temporal_attention="tsa", reference_parameters=1_743_178,
        reference_bones=6_676_748, paper=f"ST-TR-1s, {JOURNAL}, Table II-b, section V-F",
    ),
    "s-tr-all-layers": Variant(
        spatial_attention="ssa", all_layers=True, reference_parameters=3_079_316, reference_bones=12_144_748,
        paper=f"S-TR-all-layers, {JOURNAL}, II-b",
    ),
    "t-tr-all-layers": Variant(
        temporal_attention="tsa", all_layers=True, reference_parameters=1_679_462, reference_bones=6_456_146,
        paper=f"T-TR-all-layers, {JOURNAL}, II-b",
    ),
    "s-tr-augmented": Variant(
        spatial_attention="ssa-augmented", reference_parameters=3_323_690, reference_bones=13_116_300,
        paper=f"S-TR-augmented, {JOURNAL}, appendix B",
    ),
    "t-tr-augmented": Variant(
        temporal_attention="tsa-augmented", reference_parameters=3_214_438, reference_bones=12_619_730,
        paper=f"T-TR-augmented, {JOURNAL}, appendix B",
    ),
}  # fmt: skip
"""Official parameter counts: the official ``st_gcn.net.ST_GCN`` of each configuration on NTU (60 classes, 25
joints), every parameter counted, the unused ``person_bn`` included (``benchmarks/official_st_tr.py --check``;
``benchmarks/results/official-st-tr-check-*.md``): the library's count plus ``2 x`` the last width."""

_OPTION_NAMES = {f.name for f in fields(BlockOptions)}


def build(
    variant: Variant,
    num_classes: int = 60,
    skeleton: Skeleton | str = "ntu25",
    in_channels: int = 3,
    num_persons: int = 2,
    bones: bool = False,
    partitions: str = "agcn",
    concat_input: bool = True,
    width: int | None = None,
    windows: WindowMode | tuple[int, int, int] = "official",
    **options: Any,
) -> SpatialTemporalNet:
    """Build one variant; see the module docstring for the arguments (``width``: first-stage channels ``w``,
    default 64, 128 with bones; smaller for quick experiments such as ``skeletal demo``)."""
    unknown = set(options) - _OPTION_NAMES
    if unknown:
        expected = ", ".join(sorted(_OPTION_NAMES | {"bones", "partitions", "concat_input", "width", "windows"}))
        raise ConfigError(f"unknown recognition model options {sorted(unknown)}; expected some of {expected}")
    layout = get(skeleton)
    if variant.fully_connected:
        adjacency = ones_adjacency(layout.num_joints)
    elif partitions == "agcn":
        adjacency = agcn_partitions(layout)
    elif partitions == "stgcn":
        adjacency = stgcn_partitions(layout, "spatial")
    else:
        raise ConfigError(f"unknown graph partitions {partitions!r}; expected 'agcn' or 'stgcn'")
    first_width = width or (128 if bones else 64)
    layers = ten_layers(
        in_channels, first_width, variant.graph, variant.spatial_attention, variant.temporal_attention,
        variant.all_layers, tuple(windows) if isinstance(windows, list) else windows,
    )  # fmt: skip
    # The official backbone's unit 3 (st_gcn.py line 211): after the stem, it is our unit 4 (the first stride-2
    # layer); the all-layers backbone has no stem, so it is our unit 3 (the fourth w -> w layer).
    concat_at = (3 if variant.all_layers else 4) if concat_input else None
    return SpatialTemporalNet(
        layers, adjacency, layout, in_channels, num_classes, num_persons, BlockOptions(**options), concat_at
    )


def _builder(name: str, variant: Variant, bones: bool) -> Callable[..., SpatialTemporalNet]:
    default_channels = 6 if bones else 3

    def builder(
        num_classes: int = 60,
        skeleton: Skeleton | str = "ntu25",
        in_channels: int = default_channels,
        num_persons: int = 2,
        **kwargs: Any,
    ) -> SpatialTemporalNet:
        return build(variant, num_classes, skeleton, in_channels, num_persons, bones=bones, **kwargs)

    builder.__name__ = builder.__qualname__ = name.replace("-", "_")
    builder.__doc__ = f"{variant.paper}{' with bones (widths doubled)' if bones else ''}; see :mod:`{__name__}`."
    return builder


for _name, _variant in VARIANTS.items():
    register_model(_name, "recognition", _variant.paper, _variant.reference_parameters)(
        _builder(_name, _variant, bones=False)
    )
    register_model(f"{_name}-bones", "recognition", f"{_variant.paper}, with bones", _variant.reference_bones)(
        _builder(f"{_name}-bones", _variant, bones=True)
    )
