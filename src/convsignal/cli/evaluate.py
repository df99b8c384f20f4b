"""`convsignal eval …`: evaluations on labelled data. Prints metrics and ids, never text."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from convsignal.cli import eval_signals
from convsignal.cli.common import console, settings
from convsignal.evaluation.pii_eval import (
    SYSTEMS,
    SystemReport,
    goals,
    load_dataset,
    run_pii_evaluation,
)
from convsignal.evaluation.pii_metrics import ALL_PII
from convsignal.scrub import ENTITIES

app = typer.Typer(help="Evaluations on labelled data (metrics only, never text).")
app.command("run")(eval_signals.run)

# The evaluation set lives in the repository's eval/ folder (it is not shipped in the wheel).
DEFAULT_DATASET = Path(__file__).resolve().parents[3] / "eval" / "pii" / "dataset.json"


class Split(StrEnum):
    ALL = "all"
    DEV = "dev"
    TEST = "test"


@app.command("pii")
def pii(
    dataset: Annotated[
        Path | None,
        typer.Option("--dataset", help="PII evaluation set (JSON); default: the checkout's."),
    ] = None,
    split: Annotated[
        Split, typer.Option("--split", help="dev: what the recognizers were tuned on.")
    ] = Split.ALL,
    iou: Annotated[float, typer.Option("--iou", help="Span IoU needed for a match.")] = 0.5,
    errors: Annotated[
        bool, typer.Option("--errors", help="List misses and false alarms (ids and offsets).")
    ] = False,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="Also run vanilla Presidio.")
    ] = True,
) -> None:
    """Precision, recall and F2 per entity type: convsignal's scrubber vs vanilla Presidio.

    Span level, presidio-evaluator style (character IoU ≥ --iou). Also: the share of
    business names (account, vendor, competitor and other company names, company
    domains) that each system would wrongly scrub.
    """
    config = settings()
    dataset = dataset or DEFAULT_DATASET
    data = load_dataset(dataset)
    systems = SYSTEMS if baseline else SYSTEMS[:2]
    with console.status("loading models and scrubbing the evaluation set…"):
        reports = run_pii_evaluation(
            data,
            spacy_model=config.spacy_model,
            allow_list=config.effective_allow_list,
            split=split.value,
            iou_threshold=iou,
            systems=systems,
        )
    count = sum(1 for s in data.snippets if split is Split.ALL or s.split == split.value)
    console.print(
        f"PII evaluation set {dataset} v{data.version}: {count} snippets (split {split.value}), "
        f"spaCy model {config.spacy_model}, IoU ≥ {iou}"
    )
    console.print(_metrics_table(reports))
    console.print(_business_table(reports))
    for label, met in goals(reports[0]):
        console.print(f"  {'[green]✓[/]' if met else '[red]✗[/]'} convsignal: {label}")
    if errors:
        _print_errors(reports)


def _short(name: str) -> str:
    return {"convsignal (text only)": "text only"}.get(name, name)


def _metrics_table(reports: list[SystemReport]) -> Table:
    table = Table(title="Span-level precision / recall / F2 per entity type", title_justify="left")
    table.add_column("entity")
    table.add_column("gold", justify="right")
    for report in reports:
        for metric in ("P", "R", "F2"):
            table.add_column(f"{_short(report.name)}\n{metric}", justify="right")
    seen = {label for r in reports for label in r.result.per_type}
    extra = sorted(seen - set(ENTITIES) - {ALL_PII})
    for label in [*ENTITIES, *extra, ALL_PII]:
        counts = [r.result.per_type.get(label) for r in reports]
        gold = next((c.annotated for c in counts if c is not None), 0)
        cells = []
        for c in counts:
            if c is None or (c.annotated == 0 and c.predicted == 0):
                cells += ["—", "—", "—"]
            else:
                cells += [f"{c.precision:.2f}", f"{c.recall:.2f}", f"{c.f_beta():.2f}"]
        style = "bold" if label == ALL_PII else None
        name = "all PII (overall)" if label == ALL_PII else label
        table.add_row(name, str(gold), *cells, style=style)
    return table


def _business_table(reports: list[SystemReport]) -> Table:
    table = Table(title="Business names wrongly scrubbed", title_justify="left")
    table.add_column("kind")
    table.add_column("total", justify="right")
    for report in reports:
        table.add_column(_short(report.name), justify="right")
    kinds = sorted(reports[0].keep_by_kind)
    for kind in kinds:
        total = reports[0].keep_by_kind[kind]
        table.add_row(kind, str(total), *(_share(r.wrong_by_kind[kind], total) for r in reports))
    total = sum(reports[0].keep_by_kind.values())
    table.add_row(
        "all", str(total), *(_share(len(r.wrongly_scrubbed), total) for r in reports), style="bold"
    )
    return table


def _share(count: int, total: int) -> str:
    return f"{count / total:.1%} ({count})" if total else "—"


def _print_errors(reports: list[SystemReport]) -> None:
    for report in reports:
        console.print(f"\n[bold]{report.name}[/]: misses and false alarms (id, label, offsets)")
        for ident, kind, span in report.result.errors:
            console.print(f"  {ident:14} {kind:8} {span.label:16} {span.start}-{span.end}")
        for ident, span in report.wrongly_scrubbed:
            console.print(f"  {ident:14} {'scrubbed':8} {span.label:16} {span.start}-{span.end}")
