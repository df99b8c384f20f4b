"""`convsignal backtest …`: would the score have seen the renewals coming? (ids and numbers only)"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from convsignal.cli.common import console, console_err, open_store, settings
from convsignal.errors import ConfigError
from convsignal.evaluation.backtest import BacktestReport, build_report, read_outcomes, score_rows
from convsignal.evaluation.backtest_report import write_report
from convsignal.evaluation.history_generator import generate_history
from convsignal.score.profile import load_profile
from convsignal.store.engine import session_scope

app = typer.Typer(
    help="Backtest the health score against renewal outcomes; generate a synthetic history.",
    no_args_is_help=True,
)

DEFAULT_OUT = Path("eval/reports")


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console_err,
        transient=True,
    )


@app.command("run")
def run(
    outcomes: Annotated[
        Path,
        typer.Option(
            "--outcomes",
            help="CSV with account_id, renewal_date (ISO date), outcome "
            "(renewed | churned | expanded | downgraded). Lines starting with # are comments.",
        ),
    ],
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", min=1, help="Score this many days before renewal.")
    ] = 90,
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate",
            help="Also fit an isotonic map score → churn probability (out-of-fold).",
        ),
    ] = False,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the HTML and JSON report.")
    ] = DEFAULT_OUT,
    profile_path: Annotated[
        Path | None, typer.Option("--profile", help="Scoring profile YAML (default: built-in).")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", "--db", help="Overrides CONVSIGNAL_DATABASE_URL."),
    ] = None,
) -> None:
    """Score every renewal at T − horizon with only the data known then, against its outcome.

    For each outcomes row (renewal date T) the product scores the account as of T − 90 days
    (--horizon-days), reading only metrics, conversations and events dated on or before
    then. Reported: ROC AUC for churn (and for churn-or-downgrade), precision and recall of
    the at_risk + critical bands, lead time (days of warning at T−180/−150/−120/−90),
    calibration (reliability curve, Brier score; --calibrate adds out-of-fold isotonic
    regression), an ablation (quantitative only vs composite vs a naive renewal-proximity +
    NPS baseline) and a walk-forward search of the qualitative weight (0.0–0.6).

    Accounts with insufficient signal at T − horizon are counted, not dropped. The report
    (HTML + JSON, in --out) holds ids and numbers only. Example:

        convsignal backtest generate --accounts 2000 --seed 7 --db sqlite:///history.db
        convsignal backtest run --outcomes eval/reports/outcomes.csv --db sqlite:///history.db
    """
    config = settings(database_url)
    profile = load_profile(profile_path or config.profile_path)
    rows = read_outcomes(outcomes)
    started = time.perf_counter()
    with (
        open_store(config) as engine,
        session_scope(engine) as session,
        _progress("backtest") as bar,
    ):
        task = bar.add_task("backtest", total=len(rows))
        scored = score_rows(
            session,
            profile,
            rows,
            outcomes_path=outcomes,
            horizon_days=horizon_days,
            on_row=lambda n: bar.advance(task, n),
        )
    report = build_report(
        scored,
        profile=profile,
        outcomes_file=str(outcomes),
        horizon_days=horizon_days,
        calibrate=calibrate,
    )
    html_path, json_path = write_report(report, out)
    _print(report, time.perf_counter() - started)
    console.print(f"report: {html_path}\n        {json_path}", highlight=False)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _print(report: BacktestReport, seconds: float) -> None:
    if report.synthetic:
        console.print(
            f"[bold yellow]synthetic data[/]: {report.synthetic_accounts} of {report.rows} "
            "accounts come from `convsignal backtest generate`"
        )
    table = Table(title=f"Backtest at T − {report.horizon_days} days", title_justify="left")
    for column in ("target", "positives", "AUC", "precision", "recall", "flagged"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for target in report.targets:
        bands = target.bands
        table.add_row(
            target.name,
            str(target.positives),
            _fmt(target.auc),
            f"{bands.precision:.1%}",
            f"{bands.recall:.1%}",
            str(bands.flagged),
        )
    console.print(table)
    for name, value in report.ablation["auc"].items():
        console.print(f"  AUC {name}: {_fmt(value)}", highlight=False)
    search = report.weight_search
    console.print(
        f"  qualitative weight: current {search.current_weight:.2f}, suggested "
        f"{search.suggested_weight:.2f} (walk-forward AUC change "
        f"{_fmt(search.walk_forward_auc_change, 4)}, "
        f"in sample {_fmt(search.in_sample_auc_change, 4)})",
        highlight=False,
    )
    lead = report.lead_time
    console.print(
        f"  lead time: {lead['churners_flagged']} of {lead['churners_scored']} churners flagged, "
        f"median {_fmt(lead['median_days'], 0)} days of warning",
        highlight=False,
    )
    calibration = report.calibration
    raw = calibration.get("raw") or {}
    iso = calibration.get("isotonic") or {}
    brier = f"  Brier: raw {_fmt(raw.get('brier'), 4)}"
    if iso:
        brier += f", isotonic (out of fold) {_fmt(iso.get('brier'), 4)}"
    console.print(brier, highlight=False)
    unscored = report.rows - report.scored
    console.print(
        f"{report.rows} renewals, {report.scored} scored, {unscored} insufficient signal; "
        f"profile {report.profile_version}; {seconds:.1f} s",
        style="dim",
    )


@app.command("generate")
def generate(
    accounts: Annotated[
        int, typer.Option("--accounts", min=1, help="How many synthetic accounts.")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same history.")] = 7,
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the outcomes CSV.")
    ] = DEFAULT_OUT / "outcomes.csv",
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            "--db",
            help="Target database (use a fresh one). Overrides CONVSIGNAL_DATABASE_URL.",
        ),
    ] = None,
) -> None:
    """Draw a SYNTHETIC 18-month customer history with planted churn signal, and its outcomes.

    Writes accounts (attribute synthetic=true), monthly metric snapshots, conversation
    metadata and their events (extractor "synthetic-history", evidence "synthetic": there is
    no text at all) into the database, and account_id,renewal_date,outcome rows to --out.
    Churn depends on a latent health that drives usage, adoption, support, payment and NPS,
    and on disruptions (champion leaving, evaluating alternatives, budget cuts) that show up
    in conversations 1–4 months before renewal; the model is documented in
    convsignal/evaluation/history_generator.py. Refuses a database that already holds a
    synthetic history. Example:

        convsignal backtest generate --accounts 2000 --seed 7 --db sqlite:///history.db \\
            --out history-outcomes.csv
    """
    config = settings(database_url)
    if out.exists() and out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give the outcomes CSV's file name")
    started = time.perf_counter()
    with open_store(config) as engine, _progress("generate") as bar:
        task = bar.add_task("generate", total=accounts)
        summary = generate_history(
            engine,
            accounts=accounts,
            seed=seed,
            outcomes_path=out,
            on_account=lambda n: bar.advance(task, n),
        )
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items()))
    console.print(
        f"[bold yellow]synthetic[/] history (seed {seed}): {summary.accounts:,} accounts, "
        f"{summary.metric_snapshots:,} metric snapshots, {summary.conversations:,} "
        f"conversations, {summary.events:,} events in {time.perf_counter() - started:.1f} s",
        highlight=False,
    )
    console.print(f"outcomes: {outcomes} → {out}", highlight=False)
