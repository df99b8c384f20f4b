"""The review page in a real headless Chromium (Debian's `chromium`, driven by Playwright)
against a live uvicorn on loopback: load the page, review cases with the keyboard, see the
decisions persisted, reload and see them again."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine
from sqlmodel import select

from convsignal.api.app import create_app
from convsignal.api.routes.review import enable_review
from convsignal.config import Settings
from convsignal.store.engine import session_scope
from convsignal.store.review_tables import ReviewDecision
from tests.integration.api_helpers import make_keys
from tests.integration.review_helpers import INJECTION, write_fixture

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_review(engine: Engine, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """uvicorn serving the review of the hand-made report, in a thread; stopped after."""
    report, cases_dir = write_fixture(tmp_path / "eval")
    app = create_app(Settings(database_url=str(engine.url)), engine=engine, workers=False)
    enable_review(app, report, cases_dir)
    keys = make_keys(engine)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 20 s"
        time.sleep(0.05)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "key": keys.write, "cases_dir": cases_dir}
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _decisions(engine: Engine) -> list[tuple[str, str, str, str, list[dict[str, Any]]]]:
    with session_scope(engine) as session:
        rows = session.exec(select(ReviewDecision).order_by(ReviewDecision.id)).all()  # type: ignore[arg-type]
        return [(r.case_id, r.label, r.decision, r.reviewer, r.labels) for r in rows]


def test_review_a_case_with_the_keyboard_and_see_it_persist(
    live_review: dict[str, Any], engine: Engine
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} not found: the browser test drives Debian's Chromium; install it with "
            "`apt-get install chromium`"
        )
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{live_review['base']}/review#key={live_review['key']}")
            expect(page.locator("#cases li")).to_have_count(2)
            assert "key=" not in page.url  # the key leaves the address bar at once
            expect(page.locator("#case-title")).to_have_text("case-alpha")
            expect(page.locator("#case mark")).to_have_count(2)  # two evidence snippets found

            page.fill("#reviewer", "Ada Lovelace")
            page.press("#reviewer", "Enter")  # leaves the field; keys drive the page again
            expect(page.locator("tr.disagreement.selected")).to_have_attribute(
                "data-kind", "sentiment"
            )
            page.keyboard.press("a")  # accept the model's sentiment
            expect(page.locator("#status")).to_contain_text("Saved")
            sentiment_row = page.locator('tr.disagreement[data-label="sentiment"]')
            expect(sentiment_row).to_have_attribute("data-decided", "accept_model")
            assert _decisions(engine) == [
                (
                    "case-alpha",
                    "sentiment",
                    "accept_model",
                    "Ada Lovelace",
                    [{"type": "escalating"}],
                )
            ]

            # the page moved on to the next open disagreement: intents / seeking_help; edit it
            expect(page.locator("tr.disagreement.selected")).to_have_attribute(
                "data-label", "seeking_help"
            )
            page.keyboard.press("e")
            type_select = page.locator("form.edit select.type").first
            expect(type_select).to_be_focused()
            type_select.select_option("feature_request")
            page.locator("form.edit select.role").first.select_option("customer")
            type_select.press("Enter")
            expect(page.locator('tr.disagreement[data-label="seeking_help"]')).to_have_attribute(
                "data-decided", "edit"
            )
            assert _decisions(engine)[-1] == (
                "case-alpha",
                "seeking_help",
                "edit",
                "Ada Lovelace",
                [{"type": "feature_request", "speaker_role": "customer"}],
            )

            # next case: the injected markup is shown as text, highlighted, never run
            page.keyboard.press("j")
            expect(page.locator("#case-title")).to_have_text("case-gamma")
            expect(page.locator("#case .turn").first).to_contain_text(INJECTION)
            expect(page.locator("#case mark.current")).to_have_text(
                "<script>window.__pwned = 1</script>"
            )
            assert page.evaluate("window.__pwned") is None
            assert page.locator("#case script, #case img").count() == 0
            page.keyboard.press("g")  # keep gold: no service_reliability here
            expect(page.locator("#status")).to_contain_text("Saved")
            page.keyboard.press("k")
            expect(page.locator("#case-title")).to_have_text("case-alpha")

            # reload: the key (this tab) and the reviewer (this browser) are remembered,
            # and the decisions come back from the database
            page.reload()
            expect(page.locator("#case-title")).to_have_text("case-alpha")
            expect(page.locator("#reviewer")).to_have_value("Ada Lovelace")
            expect(sentiment_row).to_have_attribute("data-decided", "accept_model")
            expect(sentiment_row).to_contain_text("Ada Lovelace")
            expect(page.locator("#progress")).to_contain_text("3 of 6 disagreements decided")
            assert page.evaluate("window.__pwned") is None
        finally:
            browser.close()
    assert [(d[0], d[1], d[2]) for d in _decisions(engine)] == [
        ("case-alpha", "sentiment", "accept_model"),
        ("case-alpha", "seeking_help", "edit"),
        ("case-gamma", "service_reliability", "keep_gold"),
    ]
