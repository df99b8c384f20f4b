"""`convsignal serve`: the scorer API under uvicorn."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated

import typer

from convsignal.cli.common import console_err, open_store, settings


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: all).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (uvicorn's process manager).", min=1, max=64)
    ] = 1,
    graceful_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a shutdown (SIGTERM/Ctrl-C) waits for requests and running jobs; "
            "jobs still running after it are re-queued.",
            min=0,
        ),
    ] = 30.0,
    keep_alive: Annotated[
        float,
        typer.Option(
            help="Seconds an idle keep-alive connection stays open. Longer than a load "
            "balancer's idle timeout (AWS ALB: 60 s), so the balancer, not the API, closes "
            "idle connections and never sends a request on one being closed.",
            min=1,
        ),
    ] = 75.0,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    access_log: Annotated[bool, typer.Option(help="One line per request (with its id).")] = True,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")
    ] = None,
) -> None:
    """Run the scorer API: OpenAPI docs at /docs, routes under /v1, metrics at /metrics.

    The database is migrated first. Every route except /healthz and /readyz needs an API
    key (`convsignal apikey create --scope read --name my-platform`), sent as
    `Authorization: Bearer <key>`. Conversations submitted to /v1/conversations are
    extracted by a background worker; the queue lives in the database and survives a
    restart.

    Examples:

        convsignal serve --port 8000

        CONVSIGNAL_DATABASE_URL=postgresql+psycopg://app@db/convsignal \\
            convsignal serve --host 0.0.0.0 --workers 4
    """
    import uvicorn

    from convsignal.api.observability import log_config

    if database_url:  # worker processes read the environment
        os.environ["CONVSIGNAL_DATABASE_URL"] = database_url
    os.environ["CONVSIGNAL_QUEUE_SHUTDOWN_SECONDS"] = str(graceful_timeout)
    config = settings(database_url).model_copy(update={"queue_shutdown_seconds": graceful_timeout})
    with open_store(config):
        pass  # migrated to the newest schema
    console_err.print(
        f"convsignal API on http://{host}:{port} (docs: /docs), {workers} worker(s)",
        highlight=False,
    )
    common = {
        "host": host,
        "port": port,
        "log_config": log_config(log_level.upper()),
        "access_log": access_log,
        "timeout_graceful_shutdown": graceful_timeout,
        "timeout_keep_alive": keep_alive,
        "proxy_headers": False,
    }
    if workers == 1:
        from convsignal.api.app import create_app

        uvicorn.run(create_app(config), **common)  # type: ignore[arg-type]
        return
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="convsignal-prom-"))
    uvicorn.run(
        "convsignal.api.app:app_from_environment",
        factory=True,
        workers=workers,
        **common,  # type: ignore[arg-type]
    )
