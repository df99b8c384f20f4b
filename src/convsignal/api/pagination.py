"""Opaque cursors: base64url of a small JSON object, with the filters it was made for.

A cursor is only valid for the query that produced it: reusing it with other filters is a
400 naming `query.cursor`, never a page of something else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from convsignal.api.problems import Problem


def fingerprint(**filters: Any) -> str:
    """A short hash of the filters a cursor belongs to."""
    canonical = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(position: dict[str, Any], filters: str) -> str:
    payload = json.dumps({**position, "f": filters}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, filters: str) -> dict[str, Any]:
    """The position inside `cursor`, or a 400 problem naming `query.cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise _bad("not a cursor this API issued")
    if data.pop("f", None) != filters:
        raise _bad("the cursor belongs to a listing with other filters; start without one")
    return data


def _bad(message: str) -> Problem:
    return Problem(
        400,
        detail=f"query.cursor: {message}",
        errors=[{"field": "query.cursor", "message": message}],
    )
