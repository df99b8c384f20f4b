"""Load the scoring profile: a versioned YAML file holding every weight, curve and threshold.

The stored version is `version[/segment]@<first 8 hex of the file's SHA-256>`: editing any
byte (even a comment) changes what is stored on new scores, so a score can always be traced
to the exact profile that made it. Errors name the file and the dotted path of the field.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from convsignal.errors import ScoringError
from convsignal.score.profile_model import (
    Bands,
    Composite,
    Expansion,
    ExpansionComponent,
    Group,
    History,
    Profile,
    Qualitative,
    Quantitative,
    Segment,
    Trend,
    Triggers,
)

DEFAULT_PROFILE_PATH = Path(__file__).with_name("default_profile.yaml")

__all__ = [
    "DEFAULT_PROFILE_PATH",
    "Bands",
    "Composite",
    "Expansion",
    "ExpansionComponent",
    "Group",
    "History",
    "Profile",
    "Qualitative",
    "Quantitative",
    "Segment",
    "Trend",
    "Triggers",
    "load_profile",
]


def load_profile(path: Path | None = None) -> Profile:
    """Load and validate a profile and its segment variants; errors name file and field."""
    path = path or DEFAULT_PROFILE_PATH
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScoringError(f"{path}: cannot read scoring profile ({exc.strerror})") from None
    try:
        data: Any = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ScoringError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ScoringError(f"{path}: a scoring profile is a YAML mapping")
    data.pop("segment", None)  # set on variants only
    data["content_hash"] = hashlib.sha256(raw).hexdigest()
    base = _validate(path, data, where="")
    variants = {}
    for index, segment in enumerate(base.segments):
        merged = merge(data, segment.overrides)
        merged.pop("segments", None)
        merged["segment"] = segment.name
        variants[segment.name] = _validate(
            path, merged, where=f"segments.{index}({segment.name}).overrides."
        )
    return base.with_variants(variants)


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key, recursively; anything else (numbers, curves) is replaced."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _validate(path: Path, data: dict[str, Any], *, where: str) -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{where}{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ScoringError(f"{path}: invalid scoring profile: {problems}") from None


def profile_warnings(profile: Profile) -> list[str]:
    """Valid but probably unintended: settings that name no scored measure."""
    quantitative = profile.quantitative
    scored = set(quantitative.measure_weights())
    known = scored | set(quantitative.trends) | {"seat_utilisation"}
    warnings = [
        f"quantitative.curves.{name}: no group scores this measure; the curve is unused"
        for name in quantitative.curves
        if name not in scored
    ]
    for section, names in (
        ("validity_days", quantitative.validity_days),
        ("ageing", quantitative.ageing),
    ):
        warnings += [
            f"quantitative.{section}.{name}: not a scored or derived measure"
            for name in names
            if name not in known
        ]
    for group_name, group in quantitative.groups.items():
        if group.weight == 0:
            warnings.append(f"quantitative.groups.{group_name}: weight 0, its measures never count")
    return warnings
