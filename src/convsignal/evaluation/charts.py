"""Report charts as inline SVG strings (matplotlib, no GUI, no pyplot global state).

Every function returns the `<svg …>…</svg>` element alone (no XML prolog), ready to drop into
a self-contained HTML report. The output is deterministic for the same input: the SVG id salt
is fixed and no date goes into the metadata, so tests can compare charts byte for byte.

    bar_chart(["budget_cuts", "champion_leaving"], {"lexicon": [0.5, 1.0], "llm": [0.8, 0.9]},
              title="Risk flags: F1")
    confusion_matrix_chart([[3, 1], [0, 4]], ["positive", "negative"], title="Sentiment")
    line_chart({"model": ([0.1, 0.5, 0.9], [0.2, 0.4, 0.8])}, title="Reliability",
               xlabel="predicted", ylabel="observed", diagonal=True)
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
from matplotlib.figure import Figure

__all__ = ["bar_chart", "confusion_matrix_chart", "line_chart"]

_RC: dict[Any, Any] = {  # Any: matplotlib types the keys as a Literal of every rc name
    "svg.hashsalt": "convsignal",  # stable ids inside the SVG
    "svg.fonttype": "none",  # text stays text: small, searchable, selectable
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# A colour-blind-safe palette (Okabe-Ito); one colour per series, in order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


def _to_svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(_RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    start = text.find("<svg")
    return re.sub(r"\s+$", "", text[start:])


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height), dpi=100, layout="constrained")


def bar_chart(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    xlabel: str = "",
    xlim: tuple[float, float] | None = (0.0, 1.0),
) -> str:
    """Horizontal grouped bars: one row per category, one bar per series (e.g. per extractor).

    Categories read top to bottom in the order given; values are annotated at the bar end.
    """
    with matplotlib.rc_context(_RC):
        rows = max(len(categories), 1)
        figure = _figure(6.4, 0.9 + rows * (0.18 + 0.16 * max(len(series), 1)))
        axes = figure.add_subplot()
        names = list(series)
        band = 0.8 / max(len(names), 1)
        for index, name in enumerate(names):
            values = list(series[name])
            if len(values) != len(categories):
                raise ValueError(
                    f"series {name!r} has {len(values)} values for {len(categories)} categories"
                )
            positions = [
                row + (index - (len(names) - 1) / 2) * band for row in range(len(categories))
            ]
            bars = axes.barh(
                positions,
                values,
                height=band * 0.92,
                label=name,
                color=PALETTE[index % len(PALETTE)],
            )
            axes.bar_label(bars, labels=[f"{v:.2f}" for v in values], padding=2, fontsize=7)
        axes.set_yticks(range(len(categories)), labels=list(categories))
        axes.invert_yaxis()
        if xlim is not None:
            axes.set_xlim(xlim[0], xlim[1] * 1.08)
        axes.set_xlabel(xlabel)
        axes.set_title(title, loc="left")
        if len(names) > 1:
            axes.legend(loc="lower right", fontsize=7, frameon=False)
        return _to_svg(figure)


def confusion_matrix_chart(
    matrix: Sequence[Sequence[int]],
    labels: Sequence[str],
    *,
    title: str,
    xlabel: str = "predicted",
    ylabel: str = "gold",
) -> str:
    """A heatmap of counts: rows are gold labels, columns predicted labels, counts in cells."""
    size = len(labels)
    if len(matrix) != size or any(len(row) != size for row in matrix):
        raise ValueError(f"confusion matrix must be {size}×{size} for labels {list(labels)}")
    with matplotlib.rc_context(_RC):
        figure = _figure(1.6 + 0.75 * size, 1.3 + 0.6 * size)
        axes = figure.add_subplot()
        peak = max((max(row) for row in matrix), default=0) or 1
        axes.imshow([list(row) for row in matrix], cmap="Blues", vmin=0, vmax=peak)
        for row in range(size):
            for column in range(size):
                count = matrix[row][column]
                colour = "white" if count > peak * 0.6 else "black"
                axes.text(column, row, str(count), ha="center", va="center", color=colour)
        axes.set_xticks(range(size), labels=list(labels), rotation=35, ha="right")
        axes.set_yticks(range(size), labels=list(labels))
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.set_title(title, loc="left")
        for side in ("top", "right", "bottom", "left"):
            axes.spines[side].set_visible(False)
        return _to_svg(figure)


def line_chart(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    diagonal: bool = False,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    markers: bool = True,
) -> str:
    """Lines from (x values, y values) per series; `diagonal=True` draws y = x dashed, which
    turns it into a reliability (calibration) chart when x is predicted and y observed."""
    with matplotlib.rc_context(_RC):
        figure = _figure(5.2, 3.6)
        axes = figure.add_subplot()
        if diagonal:
            low, high = xlim if xlim is not None else (0.0, 1.0)
            axes.plot(
                [low, high],
                [low, high],
                linestyle="--",
                color="#999999",
                linewidth=1,
                label="ideal",
            )
        for index, (name, (xs, ys)) in enumerate(series.items()):
            if len(xs) != len(ys):
                raise ValueError(f"series {name!r}: {len(xs)} x values but {len(ys)} y values")
            axes.plot(
                list(xs),
                list(ys),
                marker="o" if markers else None,
                markersize=3.5,
                linewidth=1.5,
                label=name,
                color=PALETTE[index % len(PALETTE)],
            )
        if xlim is not None:
            axes.set_xlim(*xlim)
        if ylim is not None:
            axes.set_ylim(*ylim)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.set_title(title, loc="left")
        axes.grid(alpha=0.25)
        if len(series) > 1 or diagonal:
            axes.legend(fontsize=7, frameon=False)
        return _to_svg(figure)
