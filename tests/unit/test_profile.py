"""Loading and validating the scoring profile: errors name the file and the field."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from convsignal.domain import ExpansionSignal, Intent, RiskFlag
from convsignal.errors import ConvSignalError, ScoringError
from convsignal.score.profile import DEFAULT_PROFILE_PATH, load_profile, profile_warnings

DEFAULT_TEXT = DEFAULT_PROFILE_PATH.read_text(encoding="utf-8")


def default_data() -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_TEXT)
    assert isinstance(data, dict)
    return data


def write(tmp_path: Path, data: Any, name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the default profile


def test_default_profile_loads_with_its_version() -> None:
    profile = load_profile()
    assert profile.version == "default-2026.12"
    # full_version = version@first 8 hex digits of the SHA-256 of the file's bytes
    digest = hashlib.sha256(DEFAULT_PROFILE_PATH.read_bytes()).hexdigest()
    assert profile.content_hash == digest
    assert profile.full_version == f"default-2026.12@{digest[:8]}"


def test_default_profile_is_the_one_loaded_without_a_path() -> None:
    assert load_profile(None) == load_profile(DEFAULT_PROFILE_PATH)


def test_default_profile_covers_every_signal_type() -> None:
    qualitative = load_profile().qualitative
    assert set(qualitative.risk_flags) == set(RiskFlag)
    assert set(qualitative.intents) == set(Intent)
    assert set(qualitative.expansion_signals) == set(ExpansionSignal)


def test_default_profile_gives_every_measure_a_curve() -> None:
    quantitative = load_profile().quantitative
    weights = quantitative.measure_weights()
    assert set(weights) <= set(quantitative.curves)
    assert sum(weights.values()) == pytest.approx(1.0)


def test_a_copied_profile_loads_the_same_values(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_bytes(DEFAULT_PROFILE_PATH.read_bytes())
    assert load_profile(copy) == load_profile()


# ---------------------------------------------------------------- invalid profiles


def bad_band_order(data: dict[str, Any]) -> None:
    data["bands"]["healthy"] = 40  # below attention 50


def equal_bands(data: dict[str, Any]) -> None:
    data["bands"]["at_risk"] = data["bands"]["attention"]


def unknown_risk_flag(data: dict[str, Any]) -> None:
    data["qualitative"]["risk_flags"]["alien_abduction"] = -10


def unknown_intent(data: dict[str, Any]) -> None:
    data["qualitative"]["intents"]["wants_pizza"] = 3


def measure_without_curve(data: dict[str, Any]) -> None:
    del data["quantitative"]["curves"]["nps"]


def one_point_curve(data: dict[str, Any]) -> None:
    data["quantitative"]["curves"]["csat"] = [[3.5, 50]]


def decreasing_curve_x(data: dict[str, Any]) -> None:
    data["quantitative"]["curves"]["csat"] = [[4.5, 100], [2.5, 0]]


def misspelt_key(data: dict[str, Any]) -> None:
    data["qualitative"]["half_life_dayz"] = data["qualitative"].pop("half_life_days")


def coverage_above_one(data: dict[str, Any]) -> None:
    data["quantitative"]["min_coverage"] = 1.5


def missing_version(data: dict[str, Any]) -> None:
    del data["version"]


INVALID_CASES = [
    # (edit to the default profile, fragments the message must name)
    (bad_band_order, ["bands", "healthy > attention > at_risk"]),
    (equal_bands, ["bands"]),
    (unknown_risk_flag, ["qualitative.risk_flags", "alien_abduction"]),
    (unknown_intent, ["qualitative.intents", "wants_pizza"]),
    (measure_without_curve, ["quantitative", "nps", "curve"]),
    (one_point_curve, ["quantitative", "csat"]),
    (decreasing_curve_x, ["quantitative", "csat", "increasing"]),
    (misspelt_key, ["qualitative.half_life_dayz", "qualitative.half_life_days"]),
    (coverage_above_one, ["quantitative.min_coverage"]),
    (missing_version, ["version"]),
]


@pytest.mark.parametrize(
    ("edit", "fragments"), INVALID_CASES, ids=[edit.__name__ for edit, _ in INVALID_CASES]
)
def test_invalid_profile_names_file_and_field(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], fragments: list[str]
) -> None:
    data = default_data()
    edit(data)
    path = write(tmp_path, data)
    with pytest.raises(ScoringError) as raised:
        load_profile(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: invalid scoring profile")
    for fragment in fragments:
        assert fragment in message


UNREADABLE_CASES = [
    # (file content, fragment the message must name)
    ("version: [unclosed\nbands: {healthy: 70", "not valid YAML"),
    ("bands:\n\t- tab indented: 1\n", "not valid YAML"),
    ("- just\n- a list\n", "YAML mapping"),
    ("just a string", "YAML mapping"),
    ("", "YAML mapping"),
]


@pytest.mark.parametrize(("content", "fragment"), UNREADABLE_CASES)
def test_non_profile_yaml_names_the_file(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ScoringError) as raised:
        load_profile(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert fragment in str(raised.value)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScoringError) as raised:
        load_profile(path)
    assert str(raised.value).startswith(f"{path}: cannot read scoring profile")


def test_scoring_error_is_a_convsignal_error() -> None:
    assert issubclass(ScoringError, ConvSignalError)


# ---------------------------------------------------------------- versioning by content


def test_full_version_changes_when_the_content_changes(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8")
    before = load_profile(path)
    path.write_text(DEFAULT_TEXT.replace("positive_cap: 35", "positive_cap: 30"), "utf-8")
    after = load_profile(path)
    assert after.qualitative.positive_cap == 30
    assert after.version == before.version  # the human-set version was not bumped…
    assert after.full_version != before.full_version  # …but the stored version still differs


def test_full_version_changes_even_for_a_comment(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(DEFAULT_TEXT + "# tuned by CS ops\n", encoding="utf-8")
    assert load_profile(path).full_version != load_profile().full_version


def test_full_version_does_not_depend_on_the_path(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(DEFAULT_TEXT, encoding="utf-8")
    second.write_text(DEFAULT_TEXT, encoding="utf-8")
    assert load_profile(first).full_version == load_profile(second).full_version


def test_a_content_hash_in_the_file_is_ignored(tmp_path: Path) -> None:
    data = default_data()
    data["content_hash"] = "0" * 64
    path = write(tmp_path, data)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert load_profile(path).content_hash == expected


# ---------------------------------------------------------------- segments


SEGMENTS = [
    {
        "name": "enterprise",
        "when": {"segment": ["enterprise", "strategic"]},
        "overrides": {"composite": {"qualitative_weight": 0.5}, "bands": {"healthy": 75}},
    },
    {"name": "small", "when": {"licensed_seats": {"max": 25}}, "overrides": {"version": "smb-1"}},
    {"name": "large", "when": {"licensed_seats": {"min": 500}}},
]


def with_segments(tmp_path: Path, segments: list[dict[str, Any]] = SEGMENTS) -> Path:
    data = default_data()
    data["segments"] = segments
    return write(tmp_path, data)


def test_segments_match_any_account_attribute_by_value(tmp_path: Path) -> None:
    segments = [{"name": "gold", "when": {"plan": ["gold", "platinum"], "region": "emea"}}]
    profile = load_profile(with_segments(tmp_path, segments))
    assert profile.for_account({"plan": "gold", "region": "emea"}, {}).segment == "gold"
    assert profile.for_account({"plan": "gold", "region": "apac"}, {}).segment is None
    assert profile.for_account({"plan": "silver", "region": "emea"}, {}).segment is None


def test_segment_variants_inherit_and_change_only_what_they_list(tmp_path: Path) -> None:
    profile = load_profile(with_segments(tmp_path))
    enterprise = profile.variants["enterprise"]
    assert enterprise.composite.qualitative_weight == 0.5
    assert enterprise.bands.healthy == 75
    assert enterprise.bands.attention == profile.bands.attention  # merged key by key
    assert enterprise.quantitative == profile.quantitative
    assert enterprise.segments == ()
    digest = profile.content_hash[:8]
    assert enterprise.full_version == f"default-2026.12/enterprise@{digest}"
    assert profile.variants["small"].full_version == f"smb-1/small@{digest}"


MATCH_CASES = [
    # (segment attribute, measures, variant chosen or None for the base profile)
    ("enterprise", {}, "enterprise"),
    ("strategic", {"licensed_seats": 10.0}, "enterprise"),  # first matching rule wins
    ("smb", {"licensed_seats": 10.0}, "small"),
    ("smb", {"licensed_seats": 25.0}, "small"),  # range ends are inclusive
    ("smb", {"licensed_seats": 26.0}, None),
    (None, {"licensed_seats": 800.0}, "large"),
    (None, {}, None),  # a range never matches an unmeasured account
]


@pytest.mark.parametrize(("segment", "measures", "expected"), MATCH_CASES)
def test_the_first_matching_segment_wins(
    tmp_path: Path, segment: str | None, measures: dict[str, float], expected: str | None
) -> None:
    profile = load_profile(with_segments(tmp_path))
    chosen = profile.for_account({"segment": segment}, measures)
    assert chosen.segment == expected
    if expected is None:
        assert chosen is profile


SEGMENT_ERRORS = [
    # (segments, fragments the message must name)
    (
        [{"name": "ent", "when": {"segment": "x"}, "overrides": {"bands": {"healthy": 10}}}],
        ["segments.0(ent).overrides.bands", "healthy > attention > at_risk"],
    ),
    (
        [{"name": "ent", "when": {"segment": "x"}, "overrides": {"qualitative": {"foo": 1}}}],
        ["segments.0(ent).overrides.qualitative.foo"],
    ),
    ([{"name": "ent", "when": {}}], ["segments.0.when"]),
    ([{"name": "Big Ones", "when": {"segment": "x"}}], ["segments.0.name"]),
    (
        [{"name": "a", "when": {"segment": "x"}}, {"name": "a", "when": {"segment": "y"}}],
        ["segment names must be unique"],
    ),
    (
        [{"name": "a", "when": {"segment": "x"}, "overrides": {"segments": []}}],
        ["overrides cannot change 'segments'"],
    ),
]


@pytest.mark.parametrize(("segments", "fragments"), SEGMENT_ERRORS)
def test_invalid_segments_name_file_and_field(
    tmp_path: Path, segments: list[dict[str, Any]], fragments: list[str]
) -> None:
    path = with_segments(tmp_path, segments)
    with pytest.raises(ScoringError) as raised:
        load_profile(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: invalid scoring profile")
    for fragment in fragments:
        assert fragment in message


# ---------------------------------------------------------------- new sections


def unknown_expansion_component(data: dict[str, Any]) -> None:
    data["expansion"]["components"]["vibes"] = {"weight": 1, "curve": [[0, 0], [1, 100]]}


def undefined_adoption_trend(data: dict[str, Any]) -> None:
    data["expansion"]["adoption_trend"] = "nowhere_trend"


def trend_of_itself(data: dict[str, Any]) -> None:
    data["quantitative"]["trends"]["nps_trend"]["of"] = "nps_trend"


def negative_validity(data: dict[str, Any]) -> None:
    data["quantitative"]["validity_days"]["nps"] = 0


def zero_drop_threshold(data: dict[str, Any]) -> None:
    data["triggers"]["score_drop_points"] = 0


def all_groups_weightless(data: dict[str, Any]) -> None:
    for group in data["quantitative"]["groups"].values():
        group["weight"] = 0


NEW_SECTION_CASES = [
    (unknown_expansion_component, ["expansion.components.vibes"]),
    (undefined_adoption_trend, ["nowhere_trend", "quantitative.trends"]),
    (trend_of_itself, ["nps_trend", "itself"]),
    (negative_validity, ["validity_days", "nps"]),
    (zero_drop_threshold, ["triggers.score_drop_points"]),
    (all_groups_weightless, ["quantitative", "positive weight"]),
]


@pytest.mark.parametrize(
    ("edit", "fragments"), NEW_SECTION_CASES, ids=[e.__name__ for e, _ in NEW_SECTION_CASES]
)
def test_invalid_new_sections_name_the_field(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], fragments: list[str]
) -> None:
    data = default_data()
    edit(data)
    path = write(tmp_path, data)
    with pytest.raises(ScoringError) as raised:
        load_profile(path)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_sections_left_out_take_their_documented_defaults(tmp_path: Path) -> None:
    data = default_data()
    for key in ("expansion", "triggers", "history"):
        del data[key]
    profile = load_profile(write(tmp_path, data))
    assert profile.expansion is None  # no expansion score rather than an invented one
    assert profile.triggers.score_drop_points == 15
    assert profile.triggers.sustained_risk_days == 30
    assert profile.history.compare_days == 30


def test_the_default_profile_has_no_warnings() -> None:
    assert profile_warnings(load_profile()) == []


def test_unused_settings_are_warned_about(tmp_path: Path) -> None:
    data = default_data()
    data["quantitative"]["curves"]["logins_per_day"] = [[0, 0], [5, 100]]
    data["quantitative"]["ageing"]["days_since_signup"] = 1
    data["quantitative"]["groups"]["payment"]["weight"] = 0
    warnings = profile_warnings(load_profile(write(tmp_path, data)))
    assert warnings == [
        "quantitative.curves.logins_per_day: no group scores this measure; the curve is unused",
        "quantitative.ageing.days_since_signup: not a scored or derived measure",
        "quantitative.groups.payment: weight 0, its measures never count",
    ]
