"""Measures derived from the raw metric snapshots, before they are scored.

- `seat_utilisation` = active_users ÷ licensed_seats (dated like its older input).
- Trends (`quantitative.trends`): the least-squares slope of a measure's snapshots in the
  last `window_days`, as change per `per_days` (or, `relative`, as % of the window's mean).
  Needs ≥ 2 snapshots at least `min_span_days` apart; fewer → the trend is not measured.
- Ageing (`quantitative.ageing`): a count of days goes on counting after it was measured:
  `days_since_last_contact` reported 5 days ago as 2 is 7 today, `days_to_renewal` falls.
- Last contact from conversations: the newest stored conversation is a contact too; the
  more recent of it and the reported `days_since_last_contact` wins.

A value reported directly always wins over a derived one. Nothing here fills a gap with a
default: what cannot be derived stays missing and is re-weighted away (and said so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from convsignal.score.profile_model import Quantitative, Trend

Measures = dict[str, tuple[float, datetime]]  # measure → (value, measured at)
History = Mapping[str, Sequence[tuple[datetime, float]]]  # measure → [(at, value)], ascending
DAY = 86400.0
LAST_CONTACT = "days_since_last_contact"


def days_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / DAY


def fit_trend(
    trend: Trend, points: Sequence[tuple[datetime, float]], as_of: datetime
) -> tuple[float, datetime] | None:
    """Slope of the snapshots in the window per `per_days`, dated by the newest snapshot.

    None when fewer than 2 snapshots, or they lie closer together than `min_span_days`.
    """
    window = trend.window_days * DAY
    ages, values, newest = [], [], None  # ages in days before as-of
    for at, value in points:
        age = (as_of - at).total_seconds()
        if 0 <= age <= window:
            ages.append(age / DAY)
            values.append(value)
            newest = at if newest is None or at > newest else newest
    n = len(ages)
    if n < 2 or newest is None:
        return None
    span = max(ages) - min(ages)
    if span <= 0 or span < trend.min_span_days:
        return None
    a_mean, v_mean = sum(ages) / n, sum(values) / n
    spread = sum((a - a_mean) ** 2 for a in ages)
    covariance = sum((a - a_mean) * (v - v_mean) for a, v in zip(ages, values, strict=True))
    change = -covariance / spread * trend.per_days  # minus: age runs backwards in time
    if not trend.relative:
        return change, newest
    return None if v_mean <= 0 else (100.0 * change / v_mean, newest)


def derive_measures(
    raw: Mapping[str, tuple[float, datetime]],
    profile: Quantitative | None = None,
    *,
    as_of: datetime | None = None,
    history: History | None = None,
    last_contact: datetime | None = None,
) -> Measures:
    measures = dict(raw)
    active, licensed = raw.get("active_users"), raw.get("licensed_seats")
    if "seat_utilisation" not in measures and active and licensed and licensed[0] > 0:
        measures["seat_utilisation"] = (active[0] / licensed[0], min(active[1], licensed[1]))
    if profile is None or as_of is None:
        return measures
    for name, trend in profile.trends.items():
        points = (history or {}).get(trend.of, ())
        if name not in measures and points:
            fitted = fit_trend(trend, points, as_of)
            if fitted is not None:
                measures[name] = fitted
    for name, per_day in profile.ageing.items():
        if name in measures:
            value, at = measures[name]
            measures[name] = (value + per_day * max(0.0, days_between(at, as_of)), at)
    if profile.last_contact_from_conversations and last_contact is not None:
        from_conversations = (max(0.0, days_between(last_contact, as_of)), as_of)
        reported = measures.get(LAST_CONTACT)
        if reported is None or from_conversations[0] < reported[0]:
            measures[LAST_CONTACT] = from_conversations
    return measures
