"""`convsignal score`: ranked, explained health scores, with trends, overrides and triggers."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import Engine

from convsignal.cli.common import console, open_store, settings
from convsignal.domain import Band, Driver
from convsignal.errors import ConfigError
from convsignal.score.profile import Profile, load_profile
from convsignal.score.service import ScoredAccount, score_all
from convsignal.store.engine import session_scope

BAND_STYLE = {
    Band.HEALTHY: "green",
    Band.ATTENTION: "yellow",
    Band.AT_RISK: "dark_orange",
    Band.CRITICAL: "bold red",
    Band.INSUFFICIENT_SIGNAL: "dim",
}


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def parse_as_of(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--as-of {value!r} is not an ISO date such as 2026-11-24") from None
    if parsed.tzinfo is None:  # a bare date means the end of that day
        parsed = parsed.replace(tzinfo=UTC)
        if len(value) == 10:
            parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed


def compute(
    engine: Engine, profile: Profile, as_of: datetime, *, save: bool
) -> list[ScoredAccount]:
    with session_scope(engine) as session:
        return score_all(session, profile, as_of, save=save)


def render_table(scored: list[ScoredAccount], *, top_drivers: int) -> None:
    table = Table(title="Customer health, worst first", title_justify="left")
    numeric = {"#", "score", "Δ", "Δ30", "quant", "qual", "conf", "exp"}
    columns = ["#", "account", "score", "band", "Δ", "Δ30", "quant", "qual", "conf", "exp"]
    overridden = any(item.override for item in scored)
    columns += ["override", "why"] if overridden else ["why"]
    for column in columns:
        table.add_column(column, justify="right" if column in numeric else "left")
    for rank, item in enumerate(scored, start=1):
        health = item.score
        style = BAND_STYLE[health.band]
        row = [
            str(rank),
            item.account_name or health.account_id,
            _num(health.score),
            f"[{style}]{health.band.value}[/]",
            _signed(item.trend),
            _signed(item.trend_30d),
            _num(health.quantitative),
            _num(health.qualitative),
            f"{health.confidence:.2f}",
            _num(item.expansion.score) + (" ★" if item.expansion.ready else ""),
        ]
        if overridden:
            row.append(_override_cell(item))
        row.append(explain(health.drivers, health.flags, health.score is None, top_drivers))
        table.add_row(*row)
    console.print(table)
    render_triggers(scored)


def _override_cell(item: ScoredAccount) -> str:
    override = item.override
    if override is None:
        return ""
    style = BAND_STYLE[override.band]
    return (
        f"{override.score:.0f} [{style}]{override.band.value}[/] "
        f"by {override.author} until {override.expires_at:%Y-%m-%d}"
    )


def render_triggers(scored: list[ScoredAccount], *, limit: int = 20) -> None:
    fired = [(item, trigger) for item in scored for trigger in item.triggers]
    if not fired:
        return
    console.print(f"playbook triggers: {len(fired)}", style="bold")
    for item, trigger in fired[:limit]:
        detail = ", ".join(
            f"{key} {value:.1f}" if isinstance(value, float) else f"{key} {value}"
            for key, value in trigger.detail.items()
        )
        console.print(
            f"  {item.score.account_id}: {trigger.kind.value} ({detail})", highlight=False
        )
    if len(fired) > limit:
        console.print(f"  … and {len(fired) - limit} more (--format json lists all)")


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f}"


def explain(drivers: tuple[Driver, ...], flags: tuple[str, ...], unscored: bool, top: int) -> str:
    """The biggest pulls down (▼) and up (▲); for an unscored account, why it is unscored."""
    if unscored:
        return "; ".join(flags)
    totals: dict[str, float] = {}
    for driver in drivers:  # several events of one type read as one line
        name = driver.name.split(":", 1)[-1]
        if driver.value is not None:  # a measure says what it measured: days_payment_late=0
            name = f"{name}={driver.value:.3g}"
        totals[name] = totals.get(name, 0.0) + driver.points
    down = sorted((item for item in totals.items() if item[1] < 0), key=lambda i: i[1])[:top]
    up = sorted((item for item in totals.items() if item[1] > 0), key=lambda i: -i[1])[:top]
    parts = []
    if down:
        parts.append("[red]▼[/] " + ", ".join(f"{n} {p:+.1f}" for n, p in down))
    if up:
        parts.append("[green]▲[/] " + ", ".join(f"{n} {p:+.1f}" for n, p in up))
    return "  ".join(parts)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def as_json(scored: list[ScoredAccount]) -> list[dict[str, Any]]:
    """`score` is always the computed score; `effective_*` is what is in force (override)."""
    out = []
    for item in scored:
        data = asdict(item.score)
        data["as_of"] = item.score.as_of.isoformat()
        data["account_name"] = item.account_name
        data["segment"] = item.segment
        data["trend"] = item.trend
        data["trend_30d"] = item.trend_30d
        data["expansion"] = asdict(item.expansion)
        data["override"] = None
        if item.override is not None:
            data["override"] = asdict(item.override)
            data["override"]["created_at"] = item.override.created_at.isoformat()
            data["override"]["expires_at"] = item.override.expires_at.isoformat()
        data["effective_score"] = item.effective_score
        data["effective_band"] = item.effective_band.value
        data["triggers"] = [{"kind": t.kind.value, "detail": t.detail} for t in item.triggers]
        out.append(data)
    return out


def score(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Point in time: use only data dated up to this ISO date (a bare date means "
            "its end). Default: now.",
        ),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.TABLE,
    profile_path: Annotated[
        Path | None, typer.Option("--profile", help="Scoring profile YAML (default: built-in).")
    ] = None,
    top_drivers: Annotated[int, typer.Option(help="Drivers shown per account.")] = 3,
    save: Annotated[
        bool,
        typer.Option(help="Keep a snapshot per account and the playbook triggers of this run."),
    ] = True,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")
    ] = None,
) -> None:
    """Score every account: quantitative measures (65%) ⊕ conversation signals (35%).

    Worst first. An account without enough metrics or conversations is shown as
    insufficient_signal, never as healthy. Each score lists its drivers: signed points that
    add up to the score from a neutral 50 (`why` shows the biggest).

    Columns: Δ = change vs. the previous snapshot, Δ30 = vs. the snapshot about 30 days
    ago, exp = expansion readiness 0..100 (★ = expansion ready), override = a CSM's score
    in force (see `convsignal override --help`); the computed score is always shown too.

    Each run stores a snapshot per account and the playbook triggers it raised (band
    changed, score drop in 30 days, at risk for 30 days, expansion ready, low NPS with a
    falling score); they are printed below the table. Example:

        convsignal score --as-of 2026-10-31 --no-save --format json
    """
    config = settings(database_url)
    profile = load_profile(profile_path or config.profile_path)
    with open_store(config) as engine:
        scored = compute(engine, profile, parse_as_of(as_of), save=save)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(as_json(scored), indent=2, default=str))
        return
    if not scored:
        console.print("no accounts yet: run `convsignal ingest` and `convsignal metrics import`")
        return
    render_table(scored, top_drivers=top_drivers)
    console.print(f"profile {profile.full_version}; {len(scored)} accounts", style="dim")
