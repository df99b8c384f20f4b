"""Webhook building blocks: secrets in the Standard Webhooks format, backoff, matching."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from convsignal.api.routes.webhooks import TriggerType
from convsignal.api.webhooks import TRIGGER_TYPES, backoff_seconds, generate_secret, matches
from convsignal.score.history import TriggerKind


def test_a_generated_secret_signs_and_verifies() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert secret != generate_secret()
    now = datetime.now(UTC)
    body = '{"type":"trigger.band_changed"}'
    signature = Webhook(secret).sign("msg_1", now, body)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    assert Webhook(secret).verify(body, headers) == {"type": "trigger.band_changed"}


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 2.5, 5.0), (2, 5.0, 10.0), (3, 10.0, 20.0), (10, 30.0, 60.0), (500, 30.0, 60.0)],
)
def test_backoff_doubles_with_jitter_up_to_the_cap(attempt: int, low: float, high: float) -> None:
    delays = [backoff_seconds(attempt, base=5.0, cap=60.0) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 1  # jittered


@pytest.mark.parametrize(
    ("subscribed", "kind", "expected"),
    [
        (["*"], "score_drop", True),
        (["band_changed"], "band_changed", True),
        (["band_changed"], "score_drop", False),
        ([], "score_drop", False),
    ],
)
def test_matching(subscribed: list[str], kind: str, expected: bool) -> None:
    assert matches(subscribed, kind) is expected


def test_the_api_accepts_exactly_the_trigger_kinds() -> None:
    assert set(TRIGGER_TYPES) == {kind.value for kind in TriggerKind}
    assert set(TriggerType.__args__) == {"*", *TRIGGER_TYPES}  # type: ignore[attr-defined]
