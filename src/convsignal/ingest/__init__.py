"""Ingest: read export files into in-memory `Conversation`s (raw text, never persisted).

Each format is one module registered in `registry`; `read_paths` walks files and folders
and yields conversations (with their account, see `accounts`) or `IngestError`s (naming
file and record) so one bad file never stops a batch.
"""

from convsignal.ingest.accounts import (
    AccountMap,
    UnmappedConversation,
    load_account_map,
    retry_key,
)
from convsignal.ingest.options import IngestOptions
from convsignal.ingest.registry import format_examples, known_formats, read_paths

__all__ = [
    "AccountMap",
    "IngestOptions",
    "UnmappedConversation",
    "format_examples",
    "known_formats",
    "load_account_map",
    "read_paths",
    "retry_key",
]
