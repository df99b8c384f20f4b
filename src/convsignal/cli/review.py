"""`convsignal review`: the RevOps review page for an eval report, on loopback."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from convsignal.cli.common import console, console_err, open_store, settings
from convsignal.errors import ConfigError


def _port(host: str, wanted: int) -> int:
    """`wanted` if it is free on `host` (0: any free port); a clear error when it is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, wanted))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{wanted} ({exc.strerror}); pass another --port, "
                "or --port 0 for any free one"
            ) from None
        return int(probe.getsockname()[1])


def review(
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Eval report JSON (default: the newest eval/reports/signals-*.json).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    cases: Annotated[
        Path | None,
        typer.Option(
            "--cases",
            help="Case folder the export rewrites (default: the report's, else the "
            "checkout's eval/signals/cases).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    port: Annotated[
        int, typer.Option(help="TCP port on 127.0.0.1 (0: any free port).", min=0, max=65535)
    ] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the page in the default browser.")
    ] = False,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")
    ] = None,
) -> None:
    """Review where an extractor and gold disagree, and fix gold: accept the model's labels,
    keep gold's, or edit them. Every decision is kept with the reviewer's name and time.

    Starts the API on loopback with a short-lived write key (revoked when you stop it with
    Ctrl-C) and prints the page's URL. The key is in the URL's #fragment, which the browser
    never sends, so it never reaches a server log. On the page: J/K next/previous case,
    ↓/↑ next/previous disagreement, A accept model, G keep gold, E edit, H history. "Export
    to eval/" rewrites the gold blocks of the decided cases in eval/signals/cases/*.yaml and
    appends the decisions to eval/signals/reviews.jsonl (the audit log that goes to git).

    Examples:

        convsignal eval run && convsignal review

        convsignal review --report eval/reports/signals-2026-05-01-101500.json --port 9000
    """
    import uvicorn

    from convsignal.api.apikeys import Scope, create_api_key, revoke_api_key
    from convsignal.api.app import create_app
    from convsignal.api.observability import log_config
    from convsignal.api.routes.review import enable_review
    from convsignal.evaluation.review import newest_report
    from convsignal.store.engine import session_scope

    config = settings(database_url)
    report_path = report or newest_report()
    chosen_port = _port(host, port)
    with open_store(config) as engine:
        app = create_app(config, engine=engine, workers=False)
        source = enable_review(app, report_path, cases)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        with session_scope(engine) as session:
            key, secret = create_api_key(session, scope=Scope.WRITE, name=f"review page {stamp}")
        try:
            shown = f"[{host}]" if ":" in host else host
            url = f"http://{shown}:{chosen_port}/review#key={secret}"
            console_err.print(
                f"Reviewing {source.report_path} ({len(source.report.cases)} cases); export "
                f"writes to {source.cases_dir}. Stop with Ctrl-C (the key is then revoked).",
                highlight=False,
            )
            console.print(url, highlight=False, soft_wrap=True)
            if open_browser:
                import webbrowser

                webbrowser.open(url)
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    host=host,
                    port=chosen_port,
                    log_config=log_config("WARNING"),
                    access_log=False,
                )
            )
            server.run()
        finally:
            with session_scope(engine) as session:
                assert key.id is not None
                revoke_api_key(session, key.id)
            console_err.print(f"review key {key.prefix}… revoked", highlight=False)
