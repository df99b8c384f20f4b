"""`convsignal profile …`: show and validate the scoring profile."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from convsignal.cli.common import console, console_err, settings
from convsignal.errors import ConfigError
from convsignal.score.profile import DEFAULT_PROFILE_PATH, Profile, load_profile, profile_warnings

app = typer.Typer(
    help=(
        "The scoring profile: every weight, curve, window, threshold and band edge, in one "
        "versioned YAML file.\n\n"
        "Tune it in three steps: `convsignal profile show > mine.yaml`, edit, "
        "`convsignal profile validate mine.yaml`; then point CONVSIGNAL_PROFILE_PATH at it "
        "(or pass `convsignal score --profile mine.yaml`). Every score stores the profile's "
        "version and content hash."
    ),
    no_args_is_help=True,
)

PROFILE_OPTION = typer.Option(
    "--profile", help="Profile file (default: CONVSIGNAL_PROFILE_PATH, else the built-in one)."
)


@app.command("show")
def show(
    profile_path: Annotated[Path | None, PROFILE_OPTION] = None,
    resolved: Annotated[
        bool,
        typer.Option(
            "--resolved",
            help="Print every value in force (defaults filled in) instead of the file as written.",
        ),
    ] = False,
    segment: Annotated[
        str | None,
        typer.Option(help="With --resolved: the values for this segment (its changes applied)."),
    ] = None,
) -> None:
    """Print the scoring profile in force.

    By default the file as written, comments included: a commented starting point for your
    own. The version line goes to stderr, so `convsignal profile show > mine.yaml` is clean.
    """
    path = profile_path or settings().profile_path or DEFAULT_PROFILE_PATH
    profile = load_profile(path)
    console_err.print(f"# {path}: version {profile.full_version}", highlight=False)
    if segment is not None and not resolved:
        raise ConfigError("--segment needs --resolved (the file as written has all segments)")
    if not resolved:
        typer.echo(path.read_text(encoding="utf-8"), nl=False)
        return
    if segment is not None:
        if segment not in profile.variants:
            known = ", ".join(profile.variants) or "none"
            raise ConfigError(f"{path}: no segment {segment!r} (segments: {known})")
        profile = profile.variants[segment]
    data = profile.model_dump(mode="json", exclude={"content_hash"}, exclude_none=True)
    typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="The profile YAML to check.")],
) -> None:
    """Check a profile file and summarise what it will do.

    An invalid file is an error naming the file and the field (exit code 2), e.g.
    `mine.yaml: invalid scoring profile: bands: … healthy > attention > at_risk`.
    Settings that are valid but probably unintended (a curve no group uses) are warnings.
    """
    profile = load_profile(file)
    console.print(f"ok: {file} is a valid scoring profile, version {profile.full_version}")
    for line in summary(profile):
        console.print(f"  {line}", highlight=False)
    for warning in profile_warnings(profile):
        console_err.print(f"[yellow]warning:[/] {file}: {warning}", highlight=False)


def summary(profile: Profile) -> list[str]:
    quantitative, qualitative = profile.quantitative, profile.qualitative
    weights = quantitative.measure_weights()
    total = sum(g.weight for g in quantitative.groups.values()) or 1.0
    lines = [
        f"bands: healthy ≥ {profile.bands.healthy:g}, attention ≥ {profile.bands.attention:g}, "
        f"at_risk ≥ {profile.bands.at_risk:g}, critical below",
        f"composite: qualitative {profile.composite.qualitative_weight:g}, "
        f"quantitative {1 - profile.composite.qualitative_weight:g}",
    ]
    for name, group in quantitative.groups.items():
        measures = ", ".join(f"{m} {weights[m]:.0%}" for m in group.measures)
        lines.append(f"group {name} {group.weight / total:.0%}: {measures}")
    lines.append(
        f"measures: stale after {quantitative.stale_after_days} days unless set per measure; "
        f"min coverage {quantitative.min_coverage:.0%}; trends: "
        + (", ".join(quantitative.trends) or "none")
    )
    lines.append(
        f"conversations: window {qualitative.window_days} days, half-life "
        f"{qualitative.half_life_days:g} days, at least {qualitative.min_conversations}"
    )
    expansion = profile.expansion
    lines.append(
        "expansion readiness: "
        + (
            f"ready at {expansion.ready_at:g} when {'/'.join(expansion.ready_bands)}"
            if expansion
            else "off (no `expansion:` section)"
        )
    )
    rules = profile.triggers
    lines.append(
        f"triggers: drop ≥ {rules.score_drop_points:g} in {profile.history.compare_days} days; "
        f"at risk ≥ {rules.sustained_risk_days} days; NPS ≤ {rules.low_nps:g} with a fall "
        f"≥ {rules.declining_points:g}"
    )
    for segment in profile.segments:
        when = ", ".join(f"{key} {value}" for key, value in segment.when.items())
        lines.append(f"segment {segment.name}: when {when}; changes {sorted(segment.overrides)}")
    return lines
