"""Write small real-shaped plain-text exports for tests."""

from __future__ import annotations

from pathlib import Path

import yaml


def write_transcript(
    folder: Path,
    name: str,
    *,
    account: str = "acme",
    occurred_at: str = "2026-11-01T10:00:00Z",
    channel: str = "call",
    participants: list[dict[str, str]] | None = None,
    lines: list[str],
    subject: str | None = None,
) -> Path:
    header: dict[str, object] = {
        "account": account,
        "channel": channel,
        "occurred_at": occurred_at,
        "participants": participants
        or [
            {"name": "Dana Whitfield", "email": "dana@acme.example", "role": "customer"},
            {"name": "Sam Patel", "email": "sam@vendor.example", "role": "vendor"},
        ],
    }
    if subject:
        header["subject"] = subject
    path = folder / f"{name}.txt"
    path.write_text("---\n" + yaml.safe_dump(header) + "---\n" + "\n".join(lines) + "\n")
    return path
