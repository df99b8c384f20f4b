"""`convsignal eval run`: extraction metrics on the labelled set, a dated report, and gates.

Registered on the `eval` group in `cli/evaluate.py`. Prints metrics, ids and file paths,
never conversation text (the JSON report carries the scrubbed text for the review page).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from convsignal.cli.common import console, console_err, settings
from convsignal.evaluation.signal_dataset import HARD_CASE_TAGS, DatasetError, load_cases
from convsignal.evaluation.signal_eval import evaluate_signals
from convsignal.evaluation.signal_metrics import compute_metrics, flatten_metrics
from convsignal.evaluation.signal_report import report_data, write_report
from convsignal.extract.registry import resolve

# The labelled set and the reports live in the checkout's eval/ folder (not in the wheel).
_EVAL_DIR = Path(__file__).resolve().parents[3] / "eval"
DEFAULT_CASES = _EVAL_DIR / "signals" / "cases"
DEFAULT_REPORTS = _EVAL_DIR / "reports"

HEADLINE = [
    ("cases fully right", "exact_match"),
    ("sentiment accuracy", "sentiment.accuracy"),
    ("sentiment macro-F1", "sentiment.macro_f1"),
    ("sentiment kappa", "sentiment.kappa"),
    ("intents micro-F1", "intents.micro_f1"),
    ("intents macro-F1", "intents.macro_f1"),
    ("risk flags micro-F1", "risk_flags.micro_f1"),
    ("risk flags macro-F1", "risk_flags.macro_f1"),
    ("risk flags + side micro-F1", "risk_flags_with_side.micro_f1"),
    ("expansion micro-F1", "expansion_signals.micro_f1"),
    ("expansion macro-F1", "expansion_signals.macro_f1"),
    ("PII leaks stored", "pii.leaks_after_rescan"),
    ("PII redacted by re-scan", "pii.rescan_redactions"),
    ("errors", "errors"),
    ("tokens in / out", "cost.input_tokens"),
    ("cost USD", "cost.usd"),
    ("latency p50 / p95 s", "latency.p50_seconds"),
]


def metric_names() -> list[str]:
    """Every gateable metric: the numeric leaves of an extractor's metrics in the JSON."""
    return list(flatten_metrics(compute_metrics([], [])))


def parse_gates(values: Sequence[str], option: str) -> dict[str, float]:
    """`METRIC=VALUE` pairs; an unknown metric is a usage error listing the valid ones."""
    known = set(metric_names())
    gates: dict[str, float] = {}
    for value in values:
        name, sep, number = value.partition("=")
        name = name.strip()
        try:
            threshold = float(number)
        except ValueError:
            threshold = float("nan")
        if not sep or threshold != threshold:
            raise typer.BadParameter(
                f"{value!r}: want METRIC=NUMBER, e.g. risk_flags.micro_f1=0.5", param_hint=option
            )
        if name not in known:
            headline = [n for n in metric_names() if ".per_label." not in n]
            raise typer.BadParameter(
                f"unknown metric {name!r}. Valid metrics: {', '.join(headline)}; and per label "
                "<intents|risk_flags|expansion_signals>.per_label.<label>."
                "<precision|recall|f1|support|predicted>",
                param_hint=option,
            )
        gates[name] = threshold
    return gates


def failed_gates(
    extractors: Sequence[Mapping[str, Any]],
    minimums: Mapping[str, float],
    maximums: Mapping[str, float],
) -> list[str]:
    """One line per extractor and metric that misses its threshold (undefined misses too)."""
    failures = []
    for extractor in extractors:
        flat = flatten_metrics(extractor["metrics"])
        for name, threshold in minimums.items():
            value = flat[name]
            if value is None or value < threshold:
                failures.append(f"{extractor['name']}: {name} = {_show(value)} < {threshold:g}")
        for name, threshold in maximums.items():
            value = flat[name]
            if value is None or value > threshold:
                failures.append(f"{extractor['name']}: {name} = {_show(value)} > {threshold:g}")
    return failures


def _show(value: float | int | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def run(
    cases_dir: Annotated[
        Path | None,
        typer.Option("--cases", help="Folder of labelled cases (YAML); default: the checkout's."),
    ] = None,
    extractor_names: Annotated[
        list[str] | None,
        typer.Option(
            "--extractor",
            help="Extractor to evaluate, repeatable for side by side: lexicon, "
            "anthropic/<model>, openai/<model>, openai-compatible/<model> (default: lexicon).",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="LLM API base URL (vLLM, Ollama, a gateway)."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Report folder (default: the checkout's eval/reports/)."),
    ] = None,
    minimums: Annotated[
        list[str] | None,
        typer.Option(
            "--min",
            help="Gate METRIC=VALUE (repeatable): exit 1 when an extractor's metric is below.",
        ),
    ] = None,
    maximums: Annotated[
        list[str] | None,
        typer.Option(
            "--max",
            help="Gate METRIC=VALUE (repeatable): exit 1 when above (pii.leaks_after_rescan=0).",
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the first N cases (by id).")
    ] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Only cases with this hard-case tag (repeatable: any of)."),
    ] = None,
) -> None:
    """Evaluate extractors on the labelled set: per-label P/R/F1, sentiment, PII leaks, cost.

    Every case is scrubbed by the real scrubber first, exactly as in production; extractors
    only see scrubbed text. Writes eval/reports/signals-YYYY-MM-DD-HHMMSS.html (charts,
    self-contained) and .json (every number, per-case predictions and the scrubbed text,
    for the review page). Metric names for the gates are JSON paths inside an extractor's
    "metrics" (risk_flags.micro_f1, sentiment.kappa, pii.leaks_after_rescan, …); a gate
    applies to every extractor. Exit 1 when a gate fails, 2 on a usage error.

    Examples:

      convsignal eval run

      convsignal eval run --extractor lexicon --extractor anthropic/claude-sonnet-4-5

      convsignal eval run --min risk_flags.micro_f1=0.5 --min sentiment.macro_f1=0.4

      convsignal eval run --max pii.leaks_after_rescan=0 --max cost.usd=2.5

      convsignal eval run --tag negation --tag sarcasm --limit 20 --out /tmp/reports
    """
    gates_min = parse_gates(minimums or [], "--min")
    gates_max = parse_gates(maximums or [], "--max")
    unknown_tags = sorted(set(tags or []) - HARD_CASE_TAGS)
    if unknown_tags:
        raise typer.BadParameter(
            f"unknown tag(s) {unknown_tags}; known: {sorted(HARD_CASE_TAGS)}", param_hint="--tag"
        )
    config = settings(llm_base_url=base_url)
    names = list(dict.fromkeys(extractor_names or ["lexicon"]))
    for name in names:  # a typo or a missing key fails before the spaCy model loads
        resolve(name, config)
    folder = cases_dir or DEFAULT_CASES
    cases = load_cases(folder)
    if tags:
        cases = [case for case in cases if set(case.tags) & set(tags)]
    cases = cases[:limit] if limit else cases
    if not cases:
        raise DatasetError(f"{folder}: no labelled cases (after --tag/--limit)")

    with Progress(
        TextColumn("[bold]{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console_err,
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {"scrub": progress.add_task("scrub", total=len(cases))}
        for name in names:
            tasks[name] = progress.add_task(name, total=len(cases))
        evaluation = evaluate_signals(
            cases, names, config, on_progress=lambda stage: progress.advance(tasks[stage])
        )
    data = report_data(
        evaluation,
        cases_dir=folder,
        filters={"tag": ",".join(tags) if tags else None, "limit": limit},
    )
    html_path, json_path = write_report(data, out_dir or DEFAULT_REPORTS)
    console.print(_table(data))
    console.print(f"report: {html_path}\ndata:   {json_path}", highlight=False)
    if any(not e["is_llm"] for e in data["extractors"]):
        console_err.print(
            "[yellow]note:[/] lexicon is an offline keyword baseline (phrase patterns + VADER), "
            "not an LLM; compare it with --extractor anthropic/<model> (or openai/<model>).",
            highlight=False,
        )
    failures = failed_gates(data["extractors"], gates_min, gates_max)
    if failures:
        console_err.print("[bold red]gate failed:[/]", highlight=False)
        for line in failures:
            console_err.print(f"  {line}", highlight=False)
        raise typer.Exit(1)
    if gates_min or gates_max:
        console.print(f"[green]all {len(gates_min) + len(gates_max)} gate(s) passed[/]")


def _table(data: Mapping[str, Any]) -> Table:
    table = Table(title=f"Extraction on {data['case_count']} labelled cases", title_justify="left")
    table.add_column("metric")
    for extractor in data["extractors"]:
        table.add_column(extractor["name"], justify="right")
    for title, path in HEADLINE:
        cells = []
        for extractor in data["extractors"]:
            flat = flatten_metrics(extractor["metrics"])
            if path == "cost.input_tokens":
                cells.append(f"{_show(flat[path])} / {_show(flat['cost.output_tokens'])}")
            elif path == "latency.p50_seconds":
                cells.append(f"{_show(flat[path])} / {_show(flat['latency.p95_seconds'])}")
            else:
                cells.append(_show(flat[path]))
        table.add_row(title, *cells)
    return table


__all__ = ["DEFAULT_CASES", "DEFAULT_REPORTS", "failed_gates", "metric_names", "parse_gates", "run"]
