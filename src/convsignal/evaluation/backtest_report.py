"""The backtest as files: a dated, self-contained HTML report (inline CSS and SVG) and its JSON.

Both hold account ids, dates, outcomes and numbers only: no conversation text, no evidence.
The HTML shows a "synthetic data" banner when any scored account carries the generator's
`synthetic=true` attribute (see `history_generator`).

    html_path, json_path = write_report(report, Path("eval/reports"))
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from convsignal.evaluation import charts
from convsignal.evaluation.backtest import OUTCOMES, BacktestReport

REPORT_KIND = "convsignal.backtest"
SCHEMA_VERSION = 1
TEMPLATES = Path(__file__).with_name("templates")
BANDS = ("healthy", "attention", "at_risk", "critical", "insufficient_signal")


def report_data(report: BacktestReport) -> dict[str, Any]:
    return {"kind": REPORT_KIND, "schema_version": SCHEMA_VERSION, **report.to_json()}


def _charts(data: dict[str, Any]) -> dict[str, Markup]:
    out: dict[str, Markup] = {}
    ablation = {k: v for k, v in data["ablation"]["auc"].items() if v is not None}
    if ablation:
        out["ablation"] = Markup(  # noqa: S704 - the SVG comes from matplotlib, not from input
            charts.bar_chart(
                list(ablation),
                {"AUC (churn)": list(ablation.values())},
                title="Churn AUC by method",
                xlabel="ROC AUC (0.5 = chance)",
            )
        )
    search = data["weight_search"]["auc_by_weight"]
    points = [(float(w), v) for w, v in search.items() if v is not None]
    if points:
        out["weights"] = Markup(  # noqa: S704
            charts.line_chart(
                {"AUC on every renewal": ([w for w, _ in points], [v for _, v in points])},
                title="Churn AUC by qualitative weight",
                xlabel="qualitative weight",
                ylabel="ROC AUC",
            )
        )
    calibration = data["calibration"]
    series = {}
    for key, name in (("raw", "raw: 1 − score/100"), ("isotonic", "isotonic (out of fold)")):
        if calibration.get(key):
            series[name] = (calibration[key]["predicted"], calibration[key]["observed"])
    if series:
        out["reliability"] = Markup(  # noqa: S704
            charts.line_chart(
                series,
                title="Reliability: predicted vs observed churn",
                xlabel="predicted churn probability",
                ylabel="observed churn rate",
                diagonal=True,
                xlim=(0.0, 1.0),
                ylim=(0.0, 1.0),
            )
        )
    return out


def render_html(data: dict[str, Any]) -> str:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = environment.get_template("backtest.html.j2")
    return template.render(data=data, charts=_charts(data), outcomes=OUTCOMES, bands=BANDS)


def write_report(report: BacktestReport, out_dir: Path) -> tuple[Path, Path]:
    """Write backtest-<UTC timestamp>.html and .json into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    data = report_data(report)
    html_path = out_dir / f"backtest-{stamp}.html"
    json_path = out_dir / f"backtest-{stamp}.json"
    json_path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    html_path.write_text(render_html(data), encoding="utf-8")
    return html_path, json_path
