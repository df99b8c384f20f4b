"""Ingest: read export files into in-memory `Conversation`s (raw text, never persisted).

Each format is one module registered in `registry`; `read_paths` walks files and folders
and yields conversations or `IngestError`s (naming file and record) so one bad file never
stops a batch.
"""

from convsignal.ingest.registry import IngestOptions, known_formats, read_paths

__all__ = ["IngestOptions", "known_formats", "read_paths"]
