"""The extraction evaluation as files: a dated, self-contained HTML report and its JSON.

The JSON holds every number plus, per case, the gold labels, each extractor's predictions
(with their re-scanned evidence) and the SCRUBBED conversation (placeholders for people): the
RevOps review page reads it. The HTML shows metrics, labels and case ids only, no text; it
has no external resources (inline CSS, inline SVG charts), so it opens from a CI artifact.

    data = report_data(evaluation, cases_dir=Path("eval/signals/cases"))
    html_path, json_path = write_report(data, Path("eval/reports"))
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from convsignal.evaluation import charts
from convsignal.evaluation.signal_eval import ExtractorRun, PreparedCase, SignalEvaluation
from convsignal.evaluation.signal_metrics import (
    ITEM_KINDS,
    CasePrediction,
    compute_metrics,
    is_fully_right,
)

__all__ = ["REPORT_KIND", "SCHEMA_VERSION", "render_html", "report_data", "write_report"]

REPORT_KIND = "convsignal.signal-eval"
SCHEMA_VERSION = 1
TEMPLATES = Path(__file__).with_name("templates")
KIND_TITLES = {
    "intents": "Intents",
    "risk_flags": "Risk flags",
    "expansion_signals": "Expansion signals",
}


def _case_data(prepared: PreparedCase, runs: list[ExtractorRun], index: int) -> dict[str, Any]:
    case, scrubbed = prepared.case, prepared.scrubbed
    gold = case.gold
    predictions: dict[str, Any] = {}
    for run in runs:
        prediction = run.predictions[index]
        predictions[run.name] = _prediction_data(prepared, prediction)
    return {
        "id": case.id,
        "channel": str(case.channel),
        "industry": case.industry,
        "occurred_at": case.occurred_at.isoformat(),
        "tags": list(case.tags),
        "subject": scrubbed.subject,
        "speakers": [
            {"placeholder": speaker, "role": role}
            for speaker, role in sorted({(t.speaker, str(t.role)) for t in scrubbed.turns})
        ],
        "turns": [
            {"speaker": t.speaker, "role": str(t.role), "internal": t.internal, "text": t.text}
            for t in scrubbed.turns
        ],
        "gold": {
            "sentiment": str(gold.sentiment),
            "trajectory": str(gold.trajectory),
            **{
                kind: [
                    {"type": str(item.type), "speaker_role": str(item.speaker_role)}
                    for item in getattr(gold, kind)
                ]
                for kind in ITEM_KINDS
            },
            "rationale": prepared.rationale,
        },
        "predictions": predictions,
    }


def _prediction_data(prepared: PreparedCase, prediction: CasePrediction) -> dict[str, Any]:
    usage = prediction.usage
    gold_types = {
        kind: {str(item.type) for item in getattr(prepared.case.gold, kind)} for kind in ITEM_KINDS
    }
    items = [
        {
            "kind": item.kind,
            "type": item.type,
            "speaker_role": item.speaker_role,
            "confidence": round(item.confidence, 4),
            "evidence": item.evidence,
            "correct": item.type in gold_types[item.kind],
        }
        for item in prediction.items
    ]
    predicted = {kind: {i.type for i in prediction.items if i.kind == kind} for kind in ITEM_KINDS}
    return {
        "sentiment": prediction.sentiment,
        "sentiment_score": prediction.sentiment_score,
        "items": items,
        "missed": {kind: sorted(gold_types[kind] - predicted[kind]) for kind in ITEM_KINDS},
        "extra": {kind: sorted(predicted[kind] - gold_types[kind]) for kind in ITEM_KINDS},
        "fully_right": is_fully_right(prepared.case, prediction),
        "error": prediction.error,
        "latency_seconds": round(prediction.latency_seconds, 4),
        "tokens": {
            "input": usage.input_tokens if usage else 0,
            "output": usage.output_tokens if usage else 0,
            "cache_read": usage.cache_read_tokens if usage else 0,
            "cache_write": usage.cache_write_tokens if usage else 0,
            "requests": usage.requests if usage else 0,
        },
        "cost_usd": prediction.cost_usd,
        "pii": {
            "leaks_in_output": prediction.leaks_in_output,
            "rescan_redactions": prediction.rescan_redactions,
            "leaks_after_rescan": prediction.leaks_after_rescan,
            "leaks_in_input": prediction.leaks_in_input,
            "found": list(prediction.leak_kinds),
        },
    }


def report_data(
    evaluation: SignalEvaluation,
    *,
    cases_dir: Path | None = None,
    filters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the JSON file holds (and the HTML is rendered from)."""
    gold_cases = [p.case for p in evaluation.cases]
    extractors = [
        {
            "name": run.name,
            "extractor_id": run.extractor_id,
            "prompt_version": run.prompt_version,
            "is_llm": run.is_llm,
            "metrics": compute_metrics(gold_cases, run.predictions, wall_seconds=run.wall_seconds),
        }
        for run in evaluation.runs
    ]
    return {
        "kind": REPORT_KIND,
        "schema_version": SCHEMA_VERSION,
        "generated_at": evaluation.started_at.isoformat(timespec="seconds"),
        "cases_dir": str(cases_dir) if cases_dir else None,
        "filters": dict(filters or {}),
        "case_count": len(evaluation.cases),
        "scrub_seconds": round(evaluation.scrub_seconds, 3),
        "extractors": extractors,
        "cases": [
            _case_data(prepared, evaluation.runs, index)
            for index, prepared in enumerate(evaluation.cases)
        ],
    }


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _svg(svg: str) -> Markup:
    """Our own matplotlib output (it escapes the labels it draws): safe to inline."""
    return Markup(svg)  # noqa: S704


def _charts(data: Mapping[str, Any]) -> dict[str, Any]:
    extractors = data["extractors"]
    per_kind: dict[str, Markup] = {}
    for kind in ITEM_KINDS:
        labels = [
            label
            for label in ITEM_KINDS[kind]
            if any(
                e["metrics"][kind]["per_label"][label]["support"]
                or e["metrics"][kind]["per_label"][label]["predicted"]
                for e in extractors
            )
        ]
        if not labels or not extractors:
            continue
        series = {
            e["name"]: [e["metrics"][kind]["per_label"][label]["f1"] or 0.0 for label in labels]
            for e in extractors
        }
        per_kind[kind] = _svg(
            charts.bar_chart(labels, series, title=f"{KIND_TITLES[kind]}: F1 per label")
        )
    confusion = {
        e["name"]: _svg(
            charts.confusion_matrix_chart(
                e["metrics"]["sentiment"]["confusion_matrix"],
                e["metrics"]["sentiment"]["labels"],
                title=f"Sentiment: {e['name']}",
            )
        )
        for e in extractors
        if data["case_count"]
    }
    return {"per_kind": per_kind, "confusion": confusion}


def render_html(data: Mapping[str, Any]) -> str:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["fmt"] = _fmt
    template = environment.get_template("eval_report.html.j2")
    return template.render(
        data=data,
        charts=_charts(data),
        kinds=ITEM_KINDS,
        kind_titles=KIND_TITLES,
        baseline=[e["name"] for e in data["extractors"] if not e["is_llm"]],
    )


def report_stem(when: datetime) -> str:
    return f"signals-{when:%Y-%m-%d-%H%M%S}"


def write_report(data: Mapping[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write `signals-YYYY-MM-DD-HHMMSS.html` and `.json` into `out_dir` (created)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_stem(datetime.fromisoformat(str(data["generated_at"])))
    html_path, json_path = out_dir / f"{stem}.html", out_dir / f"{stem}.json"
    json_path.write_text(
        json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8"
    )
    html_path.write_text(render_html(data), encoding="utf-8")
    return html_path, json_path
