"""Shared by the ingest tests: the fixture folder, options, and a reader that sorts items."""

from __future__ import annotations

from pathlib import Path

from convsignal.domain import Conversation
from convsignal.errors import IngestError
from convsignal.ingest import IngestOptions, load_account_map, read_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
VENDOR_DOMAIN = "brightmetrics.io"


def options(**overrides: object) -> IngestOptions:
    values: dict[str, object] = {
        "internal_domains": (VENDOR_DOMAIN,),
        "account_map": load_account_map(FIXTURES / "maps" / "account-map.yaml"),
    }
    values.update(overrides)
    return IngestOptions(**values)  # type: ignore[arg-type]


def read(
    *paths: Path, format_name: str = "auto", opts: IngestOptions | None = None
) -> tuple[list[Conversation], list[IngestError]]:
    conversations: list[Conversation] = []
    errors: list[IngestError] = []
    for item in read_paths(list(paths), opts or options(), format_name=format_name):
        if isinstance(item, IngestError):
            errors.append(item)
        else:
            conversations.append(item)
    return conversations, errors
