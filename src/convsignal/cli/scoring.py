"""`convsignal score`: ranked, explained health scores."""

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
    numeric = {"#", "score", "Δ", "quant", "qual", "conf"}
    for column in ("#", "account", "score", "band", "Δ", "quant", "qual", "conf", "why"):
        table.add_column(column, justify="right" if column in numeric else "left")
    for rank, item in enumerate(scored, start=1):
        health = item.score
        style = BAND_STYLE[health.band]
        table.add_row(
            str(rank),
            item.account_name or health.account_id,
            _num(health.score),
            f"[{style}]{health.band.value}[/]",
            f"{item.trend:+.1f}" if item.trend is not None else "",
            _num(health.quantitative),
            _num(health.qualitative),
            f"{health.confidence:.2f}",
            explain(health.drivers, health.flags, health.score is None, top_drivers),
        )
    console.print(table)


def explain(drivers: tuple[Driver, ...], flags: tuple[str, ...], unscored: bool, top: int) -> str:
    """The biggest pulls down (▼) and up (▲); for an unscored account, why it is unscored."""
    if unscored:
        return "; ".join(flags)
    totals: dict[str, float] = {}
    for driver in drivers:  # several events of one type read as one line
        name = driver.name.split(":", 1)[-1]
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
    out = []
    for item in scored:
        data = asdict(item.score)
        data["as_of"] = item.score.as_of.isoformat()
        data["account_name"] = item.account_name
        data["trend"] = item.trend
        out.append(data)
    return out


def score(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Score from data up to this date (default: now).")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.TABLE,
    profile_path: Annotated[
        Path | None, typer.Option("--profile", help="Scoring profile YAML (default: built-in).")
    ] = None,
    top_drivers: Annotated[int, typer.Option(help="Drivers shown per account.")] = 3,
    save: Annotated[bool, typer.Option(help="Keep a score snapshot per account.")] = True,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")
    ] = None,
) -> None:
    """Score every account: quantitative measures (65%) ⊕ conversation signals (35%).

    Worst first. An account without enough metrics or conversations is shown as
    insufficient_signal, never as healthy. Each score lists its drivers: signed points that
    add up to the score from a neutral 50.
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
