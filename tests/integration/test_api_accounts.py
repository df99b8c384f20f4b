"""The read and write endpoints against a seeded store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import select

from convsignal.score.profile import load_profile
from convsignal.score.service import recompute
from convsignal.store.engine import session_scope
from convsignal.store.tables import MetricSnapshot, ScoreOverride, ScoreSnapshot
from tests.integration.api_helpers import Keys, api_client, make_keys, seed_accounts
from tests.integration.scoring_helpers import GOOD, POOR, add_account, add_metrics, day

PROBLEM = "application/problem+json"


@pytest.fixture
def keys(engine: Engine) -> Keys:
    seed_accounts(engine)
    return make_keys(engine)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with api_client(engine) as client:
        yield client


def ids(page: dict[str, object]) -> list[str]:
    return [item["account_id"] for item in page["items"]]  # type: ignore[attr-defined, index]


def test_list_is_id_ordered_with_the_current_run(client: TestClient, keys: Keys) -> None:
    page = client.get("/v1/accounts", headers=keys.header()).json()
    assert ids(page) == ["acme", "globex", "hooli", "initech", "umbrella"]
    assert page["next_cursor"] is None
    assert page["run"]["id"] >= 1
    bands = {item["account_id"]: item["band"] for item in page["items"]}
    assert bands["acme"] == "healthy"
    assert bands["globex"] in {"at_risk", "critical"}
    assert bands["hooli"] == "insufficient_signal"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("band=healthy", ["acme", "initech"]),
        ("band=critical&band=at_risk", ["globex"]),
        ("band=insufficient_signal", ["hooli", "umbrella"]),
        ("segment=smb", ["acme", "hooli", "initech"]),
        ("segment=enterprise&band=insufficient_signal", ["umbrella"]),
        ("segment=none", []),
    ],
)
def test_list_filters(client: TestClient, keys: Keys, query: str, expected: list[str]) -> None:
    response = client.get(f"/v1/accounts?{query}", headers=keys.header())
    assert response.status_code == 200
    assert ids(response.json()) == expected


def test_cursor_pages_cover_everything_once_and_stay_on_their_run(
    engine: Engine, client: TestClient, keys: Keys
) -> None:
    first = client.get("/v1/accounts?limit=2", headers=keys.header()).json()
    assert ids(first) == ["acme", "globex"]
    assert first["next_cursor"]
    with session_scope(engine) as session:  # a new run finishes between pages
        add_metrics(session, "initech", day(1), POOR)
        recompute(session, load_profile(), day(1))
    seen = ids(first)
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"/v1/accounts?limit=2&cursor={cursor}", headers=keys.header()).json()
        assert page["run"]["id"] == first["run"]["id"]
        seen += ids(page)
        cursor = page["next_cursor"]
    assert seen == ["acme", "globex", "hooli", "initech", "umbrella"]
    fresh = client.get("/v1/accounts?band=healthy", headers=keys.header()).json()
    assert fresh["run"]["id"] != first["run"]["id"]
    assert ids(fresh) == ["acme"]


@pytest.mark.parametrize("cursor", ["garbage!", "eyJ9", "W10"])
def test_bad_cursors_are_400_naming_the_cursor(client: TestClient, keys: Keys, cursor: str) -> None:
    response = client.get(f"/v1/accounts?cursor={cursor}", headers=keys.header())
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "query.cursor"


def test_a_cursor_is_bound_to_its_filters(client: TestClient, keys: Keys) -> None:
    cursor = client.get("/v1/accounts?limit=1", headers=keys.header()).json()["next_cursor"]
    other = client.get(f"/v1/accounts?limit=1&segment=smb&cursor={cursor}", headers=keys.header())
    assert other.status_code == 400


def test_changed_since_returns_what_moved_after_that_time(
    engine: Engine, client: TestClient, keys: Keys
) -> None:
    before_second_run = datetime.now(UTC)
    none_yet = client.get(
        f"/v1/accounts?changed_since={before_second_run.isoformat().replace('+00:00', 'Z')}",
        headers=keys.header(),
    )
    assert ids(none_yet.json()) == []
    with session_scope(engine) as session:
        add_metrics(session, "initech", day(1), POOR)  # initech falls
        add_account(session, "newco")
        add_metrics(session, "newco", day(1), GOOD)
        recompute(session, load_profile(), day(1))
    since = before_second_run.isoformat().replace("+00:00", "Z")
    changed = client.get(f"/v1/accounts?changed_since={since}", headers=keys.header()).json()
    assert "initech" in ids(changed)
    assert "newco" in ids(changed)
    assert "hooli" not in ids(changed)
    assert "umbrella" not in ids(changed)
    everything = client.get("/v1/accounts?changed_since=1999-01-01", headers=keys.header()).json()
    assert ids(everything) == ["acme", "globex", "hooli", "initech", "newco", "umbrella"]


def test_score_explains_itself(engine: Engine, client: TestClient, keys: Keys) -> None:
    response = client.get("/v1/accounts/globex/score", headers=keys.header())
    assert response.status_code == 200
    body = response.json()
    with session_scope(engine) as session:
        stored = session.exec(
            select(ScoreSnapshot).where(ScoreSnapshot.account_id == "globex")
        ).one()
    assert body["score"] == pytest.approx(stored.score)
    assert body["band"] == stored.band == body["effective_band"]
    assert body["drivers"]
    assert sum(d["points"] for d in body["drivers"]) == pytest.approx(body["score"] - 50, abs=0.01)
    assert any(d["source"] == "event" and d["event_id"] for d in body["drivers"])
    assert body["versions"] == ["lexicon@v1"]
    assert body["profile_version"] == stored.profile_version
    assert body["weights"]
    assert 0 < body["confidence"] <= 1
    assert body["override"] is None
    assert [point["run_id"] for point in body["history"]] == [stored.run_id]


def test_score_history_is_newest_first_and_bounded(
    engine: Engine, client: TestClient, keys: Keys
) -> None:
    with session_scope(engine) as session:
        for offset in (1, 2, 3):
            recompute(session, load_profile(), day(offset))
    body = client.get("/v1/accounts/acme/score?history=3", headers=keys.header()).json()
    stamps = [point["as_of"] for point in body["history"]]
    assert len(stamps) == 3
    assert stamps == sorted(stamps, reverse=True)
    assert body["as_of"] == stamps[0]
    assert body["trend"] is not None


@pytest.mark.parametrize(
    ("account", "detail"), [("nobody", "no account"), ("hooli-new", "no account")]
)
def test_unknown_account_is_404(client: TestClient, keys: Keys, account: str, detail: str) -> None:
    for path in (f"/v1/accounts/{account}/score", f"/v1/accounts/{account}/events"):
        response = client.get(path, headers=keys.header())
        assert response.status_code == 404
        assert detail in response.json()["detail"]


def test_an_account_without_a_snapshot_is_404_saying_so(
    engine: Engine, client: TestClient, keys: Keys
) -> None:
    with session_scope(engine) as session:
        add_account(session, "brand-new")
    response = client.get("/v1/accounts/brand-new/score", headers=keys.header())
    assert response.status_code == 404
    assert "no score yet" in response.json()["detail"]


def test_events_page_newest_first_with_kind_filter(client: TestClient, keys: Keys) -> None:
    seen: list[int] = []
    stamps: list[str] = []
    cursor = ""
    while True:
        query = "limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/accounts/globex/events?{query}", headers=keys.header()).json()
        seen += [event["id"] for event in page["items"]]
        stamps += [event["occurred_at"] for event in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 6  # 3 conversations × 2 risk flags
    assert stamps == sorted(stamps, reverse=True)
    risk = client.get("/v1/accounts/globex/events?kind=risk_flag", headers=keys.header()).json()
    assert len(risk["items"]) == 6
    sentiment = client.get("/v1/accounts/globex/events?kind=sentiment", headers=keys.header())
    assert sentiment.json()["items"] == []
    assert (
        client.get("/v1/accounts/globex/events?kind=bogus", headers=keys.header()).status_code
        == 422
    )
    window = client.get(
        "/v1/accounts/globex/events?since=2026-11-10T00:00:00Z&until=2026-11-30T00:00:00Z",
        headers=keys.header(),
    ).json()
    assert len(window["items"]) == 4


def test_metric_upserts_are_idempotent(engine: Engine, client: TestClient, keys: Keys) -> None:
    batch = {
        "items": [
            {"account_id": "acme", "as_of": "2026-11-25", "measures": {"nps": 10, "csat": 4.0}},
            {
                "account_id": "fresh-co",
                "as_of": "2026-11-25T08:00:00+02:00",
                "measures": {"active_users": 5},
                "name": "Fresh Co",
                "segment": "smb",
                "attributes": {"plan": "pro"},
            },
        ]
    }

    def count() -> int:
        with session_scope(engine) as session:
            return int(session.exec(select(func.count()).select_from(MetricSnapshot)).one())

    before = count()
    first = client.post("/v1/metrics:batch", json=batch, headers=keys.header("write"))
    assert first.status_code == 200, first.text
    assert first.json() == {"accounts": 2, "snapshots": 2, "values": 3}
    after = count()
    assert after == before + 3
    again = client.post("/v1/metrics:batch", json=batch, headers=keys.header("write"))
    assert again.status_code == 200
    assert count() == after
    put = client.put(
        "/v1/accounts/acme/metrics",
        json={"as_of": "2026-11-25", "measures": {"nps": 55}},
        headers=keys.header("write"),
    )
    assert put.status_code == 200
    assert count() == after
    with session_scope(engine) as session:
        nps = session.exec(
            select(MetricSnapshot)
            .where(MetricSnapshot.account_id == "acme", MetricSnapshot.measure == "nps")
            .order_by(MetricSnapshot.as_of.desc())  # type: ignore[attr-defined]
        ).first()
        assert nps is not None
        assert nps.value == 55


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"as_of": "2026-11-25", "measures": {}}, "body.items[0].account_id"),
        ({"account_id": "", "as_of": "2026-11-25", "measures": {}}, "body.items[0].account_id"),
        (
            {"account_id": "a\u0000b", "as_of": "2026-11-25", "measures": {}},
            "body.items[0].account_id",
        ),
        ({"account_id": "a", "as_of": "0001-01-01", "measures": {}}, "body.items[0].as_of"),
        (
            {"account_id": "a", "as_of": "2026-11-25", "measures": {"NPS!": 1}},
            "body.items[0].measures.<key>.[key]",
        ),
        (
            {"account_id": "a", "as_of": "2026-11-25", "measures": {"nps": 1e300}},
            "body.items[0].measures.nps",
        ),
        (
            {"account_id": "a", "as_of": "2026-11-25", "measures": {}, "extra": 1},
            "body.items[0].extra",
        ),
    ],
)
def test_bad_metric_items_are_refused_whole(
    engine: Engine, client: TestClient, keys: Keys, item: dict[str, object], field: str
) -> None:
    good = {"account_id": "acme", "as_of": "2026-11-25", "measures": {"nps": 1}}
    response = client.post(
        "/v1/metrics:batch", json={"items": [item, good]}, headers=keys.header("write")
    )
    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields
    assert all(f.startswith("body.items[0]") for f in fields)
    assert field in fields or any(f.startswith(field.split(".[")[0]) for f in fields)
    with session_scope(engine) as session:  # nothing of the batch was written
        rows = session.exec(
            select(MetricSnapshot).where(
                MetricSnapshot.account_id == "acme", MetricSnapshot.value == 1
            )
        ).all()
    assert rows == []


def test_override_set_shown_and_cleared(engine: Engine, client: TestClient, keys: Keys) -> None:
    created = client.post(
        "/v1/accounts/globex/override",
        json={"score": 75, "reason": "renewal signed yesterday", "days": 7},
        headers=keys.header("write"),
    )
    assert created.status_code == 201, created.text
    override = created.json()
    assert override["band"] == "healthy"
    assert override["author"] == "api:test-write"
    score = client.get("/v1/accounts/globex/score", headers=keys.header()).json()
    assert score["override"]["id"] == override["id"]
    assert score["effective_score"] == 75
    assert score["effective_band"] == "healthy"
    assert score["score"] != 75
    assert score["band"] != "healthy"
    replaced = client.post(
        "/v1/accounts/globex/override",
        json={"score": 40, "reason": "second thoughts", "author": "dana@acme.io"},
        headers=keys.header("write"),
    )
    assert replaced.status_code == 201
    with session_scope(engine) as session:
        rows = session.exec(select(ScoreOverride).where(ScoreOverride.account_id == "globex")).all()
    assert len(rows) == 2
    assert sum(row.cleared_at is None for row in rows) == 1
    cleared = client.delete("/v1/accounts/globex/override", headers=keys.header("write"))
    assert cleared.status_code == 200
    assert cleared.json()["cleared"] == 1
    assert client.get("/v1/accounts/globex/score", headers=keys.header()).json()["override"] is None
    again = client.delete("/v1/accounts/globex/override", headers=keys.header("write"))
    assert again.status_code == 404
    assert "no override in force" in again.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"score": 101, "reason": "x"}, 422, "body.score"),
        ({"score": 50, "reason": ""}, 422, "body.reason"),
        ({"score": 50, "reason": "x", "expires_at": "2020-01-01"}, 422, "body.expires_at"),
        ({"score": 50}, 422, "body.reason"),
    ],
)
def test_override_validation(
    client: TestClient, keys: Keys, body: dict[str, object], status: int, field: str
) -> None:
    response = client.post("/v1/accounts/acme/override", json=body, headers=keys.header("write"))
    assert response.status_code == status
    assert field in [error["field"] for error in response.json()["errors"]]


def test_override_on_unknown_account_is_404(client: TestClient, keys: Keys) -> None:
    response = client.post(
        "/v1/accounts/nobody/override",
        json={"score": 50, "reason": "x"},
        headers=keys.header("write"),
    )
    assert response.status_code == 404


def test_what_if_matches_the_stored_score_and_stores_nothing(
    engine: Engine, client: TestClient, keys: Keys
) -> None:
    stored = client.get("/v1/accounts/acme/score", headers=keys.header()).json()
    body = {
        "as_of": day(0).isoformat(),
        "segment": "smb",
        "measures": GOOD,
        "events": [
            {
                "kind": "intent",
                "signal_type": "planning_to_renew",
                "confidence": 0.9,
                "occurred_at": day(offset).isoformat(),
                "conversation": f"c{offset}",
            }
            for offset in (-3, -10, -20)
        ],
        "last_contact": day(-3).isoformat(),
    }

    def snapshots() -> int:
        with session_scope(engine) as session:
            return int(session.exec(select(func.count()).select_from(ScoreSnapshot)).one())

    before = snapshots()
    response = client.post("/v1/score", json=body, headers=keys.header())
    assert response.status_code == 200, response.text
    what_if = response.json()
    assert what_if["score"] == pytest.approx(stored["score"], abs=0.5)
    assert what_if["band"] == stored["band"]
    assert snapshots() == before
    # each measure driver says what it measured; events have no value of their own
    for drivers in (what_if["drivers"], stored["drivers"]):
        values = {d["name"]: d["value"] for d in drivers if d["source"] == "measure"}
        for name in ("csat", "nps", "usage_trend_pct", "days_payment_late"):
            assert values[name] == pytest.approx(GOOD[name]), name
        assert values["seat_utilisation"] == pytest.approx(0.9)  # derived: 90 of 100 seats
        assert all(d["value"] is None for d in drivers if d["source"] == "event")
    worse = client.post(
        "/v1/score",
        json={**body, "measures": POOR, "previous_score": what_if["score"]},
        headers=keys.header(),
    ).json()
    assert worse["score"] < what_if["score"]
    assert worse["trend"] < 0
    empty = client.post("/v1/score", json={}, headers=keys.header()).json()
    assert empty["band"] == "insufficient_signal"
    assert empty["score"] is None


def test_what_if_ignores_events_after_as_of(client: TestClient, keys: Keys) -> None:
    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    future = as_of + timedelta(days=5)
    body = {
        "as_of": as_of.isoformat(),
        "measures": GOOD,
        "events": [
            {
                "kind": "risk_flag",
                "signal_type": "champion_leaving",
                "occurred_at": future.isoformat(),
            }
        ]
        * 3,
    }
    with_future = client.post("/v1/score", json=body, headers=keys.header()).json()
    without = client.post("/v1/score", json={**body, "events": []}, headers=keys.header()).json()
    assert with_future["score"] == without["score"]
