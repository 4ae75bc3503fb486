"""Published numbers of the benchmarks skeletal evaluates, with their sources, for side-by-side tables.

Every value is copied from the cited table (numbers only), never computed here. Horizons are the column labels
of each protocol (:mod:`skeletal.evaluation.prediction`); ``None`` marks a value the source does not give.
Published averages cover every action of the benchmark (8 on CMU): compare our 6-action average with care, and
per action wherever possible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PublishedRows:
    """One published method on one protocol and metric.

    Attributes:
        method: Name as the source prints it.
        source: Paper or file the numbers come from.
        values: ``{action or "average": [value per horizon or None]}``.
        note: What differs from our evaluation (input data, number of actions averaged...).
    """

    method: str
    source: str
    values: dict[str, list[float | None]]
    note: str = ""

    def row(self, action: str) -> list[float | None] | None:
        return self.values.get(action)


_MSRGCN = "MSR-GCN repository (Droliven/MSRGCN), datas_in_paper.md, CMU tables (Dang et al., ICCV 2021, tables 3-4)"
_LTD_README = "LearnTrajDep README (wei-mao-2019/LearnTrajDep), CMU-mocap, 'pre-trained' row"

CMU_MPJPE: tuple[PublishedRows, ...] = (
    PublishedRows(
        "LTD (Traj-GCN), released weights",
        _LTD_README,
        {"average": [11.5, 20.4, 37.8, 46.8, None, 96.5]},
        "average over the 8 CMU actions",
    ),
    PublishedRows(
        "LTD (Traj-GCN), rerun by MSR-GCN",
        _MSRGCN,
        {
            "basketball": [11.68, 21.26, 40.99, 50.78, 68.05, 97.99],
            "jumping": [17.18, 32.37, 60.12, 72.55, 93.78, 127.41],
            "running": [14.53, 24.20, 37.44, 41.10, 43.52, 51.73],
            "soccer": [13.33, 24.00, 43.77, 53.20, 70.85, 108.26],
            "walking": [6.62, 10.74, 17.40, 20.35, 25.18, 34.41],
            "washwindow": [5.96, 11.62, 24.77, 31.63, 43.92, 66.95],
            "average": [9.94, 18.02, 33.55, 40.94, 54.23, 81.87],
        },
        "average over 8 actions",
    ),
    PublishedRows(
        "MSR-GCN",
        _MSRGCN,
        {
            "basketball": [10.28, 18.94, 37.68, 47.03, 62.77, 86.96],
            "jumping": [14.99, 28.66, 55.86, 69.05, 92.13, 124.79],
            "running": [12.84, 20.42, 30.58, 34.42, 38.78, 48.03],
            "soccer": [10.92, 19.50, 37.05, 46.38, 64.41, 99.32],
            "walking": [6.31, 10.30, 17.64, 21.12, 27.24, 39.70],
            "washwindow": [5.49, 11.07, 25.05, 32.51, 45.87, 71.30],
            "average": [8.72, 15.83, 30.57, 38.10, 51.83, 78.63],
        },
        "average over 8 actions",
    ),
    PublishedRows(
        "DMGNN",
        _MSRGCN,
        {
            "basketball": [15.57, 28.72, 59.01, 73.05, 96.07, 138.62],
            "jumping": [31.97, 54.32, 96.66, 119.92, 160.58, 224.63],
            "running": [17.42, 26.82, 38.27, 40.08, 42.52, 46.40],
            "soccer": [14.86, 25.29, 52.21, 65.42, 82.22, 111.90],
            "walking": [9.57, 15.53, 26.03, 30.37, 37.80, 67.01],
            "washwindow": [7.93, 14.68, 33.34, 44.24, 56.51, 82.84],
            "average": [14.07, 24.44, 45.91, 56.45, 73.07, 104.34],
        },
        "average over 8 actions",
    ),
    PublishedRows(
        "Residual sup. (seq2seq)",
        _MSRGCN,
        {
            "basketball": [15.45, 26.88, 43.51, 49.23, 54.30, 72.83],
            "jumping": [26.85, 48.07, 93.50, 108.90, 128.83, 162.84],
            "running": [25.76, 48.91, 88.19, 100.80, 123.91, 158.19],
            "soccer": [17.75, 31.30, 52.55, 61.40, 72.33, 107.37],
            "walking": [44.35, 76.66, 126.83, 151.43, 182.44, 194.33],
            "washwindow": [22.84, 44.71, 86.78, 104.68, 136.30, 202.73],
            "average": [24.21, 43.76, 76.19, 88.93, 107.80, 139.00],
        },
        "average over 8 actions",
    ),
)
"""CMU 3D error (mm, mean over the 38 joints, LTD protocol) at 80, 160, 320, 400, 560, 1000 ms."""

CMU_EULER: tuple[PublishedRows, ...] = (
    PublishedRows(
        "LTD (Traj-GCN), released weights",
        _LTD_README,
        {"average": [0.25, 0.39, 0.68, 0.79, None, 1.33]},
        "average over the 8 CMU actions",
    ),
)
"""CMU Euler-angle error (rad, LTD protocol) at 80, 160, 320, 400, 560, 1000 ms."""

_ST_TRANSFORMER = "Aksan et al., A Spatio-temporal Transformer for 3D Human Motion Prediction (3DV 2021), table 2"

_H36M_TABLE_2 = {  # walking, eating, smoking, discussion at 80, 160, 320, 400 ms, as printed
    "RNN-SPL": "0.26 0.40 0.67 0.78  0.21 0.34 0.55 0.69  0.26 0.48 0.96 0.94  0.30 0.66 0.95 1.05",
    "AGED": "0.22 0.36 0.55 0.67  0.17 0.28 0.51 0.64  0.27 0.43 0.82 0.84  0.27 0.56 0.76 0.83",
    "LTD-10-10": "0.18 0.31 0.49 0.56  0.16 0.29 0.50 0.62  0.22 0.41 0.86 0.80  0.20 0.51 0.77 0.85",
    "LTD-Attention": "0.18 0.30 0.46 0.51  0.16 0.29 0.49 0.60  0.22 0.42 0.86 0.80  0.20 0.52 0.78 0.87",
    "Propagation": "0.17 0.30 0.51 0.55  0.16 0.29 0.50 0.61  0.21 0.40 0.85 0.78  0.22 0.39 0.62 0.69",
    "Transformer": "0.25 0.42 0.67 0.79  0.21 0.32 0.54 0.68  0.26 0.49 0.94 0.90  0.31 0.67 0.95 1.04",
    "ST-Transformer": "0.19 0.33 0.56 0.64  0.15 0.27 0.45 0.57  0.22 0.41 0.87 0.82  0.19 0.53 0.81 0.93",
}
_H36M_ACTIONS = ("walking", "eating", "smoking", "discussion")


def _h36m_rows(method: str, printed: str) -> PublishedRows:
    numbers = [float(v) for v in printed.split()]
    values: dict[str, list[float | None]] = {
        action: list(numbers[4 * i : 4 * i + 4]) for i, action in enumerate(_H36M_ACTIONS)
    }
    return PublishedRows(method, _ST_TRANSFORMER, values)


H36M_EULER: tuple[PublishedRows, ...] = tuple(_h36m_rows(m, printed) for m, printed in _H36M_TABLE_2.items())
"""H3.6M Euler-angle error (rad) at 80, 160, 320, 400 ms, 8 SRNN seeds per action of subject 5."""

_GAST = "Liu et al., GAST-Net (conference version), table 4 (protocol #2, receptive field 27, detected 2D input)"
HUMANEVA_COLUMNS: tuple[str, ...] = (
    *(f"{action} {subject}" for action in ("Walk", "Jog", "Box") for subject in ("S1", "S2", "S3")),
    "average",
)
HUMANEVA_P_MPJPE: tuple[PublishedRows, ...] = (
    PublishedRows(
        "VideoPose3D (Pavllo et al.)",
        _GAST,
        {"all": [13.9, 10.2, 46.6, 20.9, 13.1, 13.8, 23.8, 33.7, 32.0, 23.1]},
        "detected 2D input",
    ),
    PublishedRows(
        "GAST-Net", _GAST, {"all": [13.7, 9.2, 46.2, 20.1, 12.5, 12.7, 21.8, 27.8, 27.0, 21.2]}, "detected 2D input"
    ),
)
"""HumanEva-I P-MPJPE (mm): one row ``"all"`` over :data:`HUMANEVA_COLUMNS` (action and subject, then average)."""


@dataclass
class SideBySide:
    """Our rows and the published ones for one metric, as a markdown table."""

    title: str
    columns: list[str]
    rows: list[tuple[str, str, list[float | None]]] = field(default_factory=list)  # (action, method, values)

    def add(self, action: str, method: str, values: Sequence[float | None]) -> None:
        self.rows.append((action, method, list(values)))

    def to_markdown(self, digits: int = 3) -> str:
        lines = [f"**{self.title}**", "", "| action | method | " + " | ".join(self.columns) + " |"]
        lines.append("|---|---" + "|---:" * len(self.columns) + "|")
        for action, method, values in self.rows:
            cells = " | ".join("-" if v is None else f"{v:.{digits}g}" for v in values)
            lines.append(f"| {action} | {method} | {cells} |")
        return "\n".join(lines)


def side_by_side(
    title: str,
    columns: list[str],
    ours: Mapping[str, Mapping[str, Sequence[float]]],
    published: tuple[PublishedRows, ...],
) -> SideBySide:
    """Per action, our methods' rows then every published method's row for that action (when it has one).

    Args:
        title: Table title (metric and unit).
        columns: Horizon or subject labels.
        ours: ``{method: {action: values}}``; the actions (and their order) come from the first method.
        published: Published methods.
    """
    table = SideBySide(title, columns)
    actions = list(next(iter(ours.values())))
    for action in actions:
        for method, values in ours.items():
            if action in values:
                table.add(action, f"{method} (ours)", values[action])
        for rows in published:
            found = rows.row(action)
            if found is not None:
                table.add(action, rows.method, found)
    return table
