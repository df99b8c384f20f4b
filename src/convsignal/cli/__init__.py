"""The `convsignal` command. Thin: parses options, builds Settings once, calls the layers.

convsignal demo                 bundled sample exports → scored accounts (offline)
convsignal ingest PATH...       ingest → scrub → extract → store
convsignal metrics import CSV   quantitative measures per account
convsignal score                ranked health scores with drivers
convsignal profile show|validate the scoring profile
convsignal override set|clear|list   a CSM's score override, with reason and expiry
convsignal db upgrade           apply schema migrations
"""

from __future__ import annotations

import logging
import sys

import typer

from convsignal.cli import (
    apikey,
    backtest,
    db,
    demo,
    evaluate,
    extract,
    ingest,
    metrics,
    scoring,
    serve,
)
from convsignal.cli import jobs as jobs_cli
from convsignal.cli import override as override_cli
from convsignal.cli import profile as profile_cli
from convsignal.cli import review as review_cli
from convsignal.cli import webhooks as webhooks_cli
from convsignal.cli.common import console_err
from convsignal.cli.helptext import reflow_help
from convsignal.errors import ConvSignalError

app = typer.Typer(
    name="convsignal",
    help=(
        "Turn customer conversations into PII-free, explainable customer-health scores.\n\n"
        "Start with `convsignal demo`. Data goes to ./convsignal.db unless "
        "CONVSIGNAL_DATABASE_URL says otherwise."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("demo")(demo.demo)
app.command("ingest")(ingest.ingest)
app.command("extract")(extract.extract)
app.command("formats")(ingest.formats)
app.command("extractors")(ingest.extractors)
app.command("score")(scoring.score)
app.add_typer(metrics.app, name="metrics")
app.add_typer(db.app, name="db")
app.add_typer(evaluate.app, name="eval")
app.add_typer(profile_cli.app, name="profile")
app.add_typer(override_cli.app, name="override")
app.add_typer(backtest.app, name="backtest")
app.command("review")(review_cli.review)
app.command("serve")(serve.serve)
app.add_typer(apikey.app, name="apikey")
app.add_typer(webhooks_cli.app, name="webhooks")
app.add_typer(jobs_cli.app, name="jobs")
reflow_help(app)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except ConvSignalError as exc:
        console_err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
