"""Pass 1 over .eml files and mbox mailboxes: headers only, then threads.

Each message is read up to its blank line (mbox messages through `mailbox.mbox`, which
indexes the file by streaming it and reads one message at a time: a 500 MB Gmail Takeout
is never in memory). Threads are the connected groups of Message-ID, In-Reply-To,
References and Gmail's X-GM-THRID; a Message-ID seen twice (the same mail in two exports,
or a Takeout listing it under two labels) is kept once.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import BinaryIO

from convsignal.errors import IngestError

_IDS = re.compile(r"<([^<>\s]+)>")
_HEADER_LIMIT = 256 * 1024
_PARSER = BytesHeaderParser(policy=compat32)


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where to find one message again in pass 2: `key` is the mbox key, None for .eml."""

    path: Path
    key: int | None
    message_id: str | None
    ordinal: int  # position in the run, for a stable order

    @property
    def record(self) -> str:
        if self.message_id:
            return f"Message-ID <{self.message_id}>"
        return f"message #{self.key + 1}" if self.key is not None else "message"


def is_mbox(path: Path, head: str) -> bool:
    return path.suffix.lower() == ".mbox" or head.lstrip("\ufeff").startswith("From ")


def open_mbox(path: Path) -> mailbox.mbox:
    return mailbox.mbox(str(path), create=False)


def read_header_block(handle: BinaryIO) -> bytes:
    lines = []
    size = 0
    for line in handle:
        if line in (b"\n", b"\r\n") or size > _HEADER_LIMIT:
            break
        lines.append(line)
        size += len(line)
    return b"".join(lines)


class ThreadIndex:
    """Union-find over message ids; each distinct message once."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._messages: list[tuple[str, MessageRef]] = []
        self._seen_ids: set[str] = set()
        self.duplicates = 0

    def add(self, ref: MessageRef, links: Sequence[str]) -> None:
        if ref.message_id is not None:
            if ref.message_id in self._seen_ids:
                self.duplicates += 1
                return
            self._seen_ids.add(ref.message_id)
        node = f"id:{ref.message_id}" if ref.message_id else f"msg:{ref.ordinal}"
        self._find(node)
        for link in links:
            self._union(node, link)
        self._messages.append((node, ref))

    def threads(self) -> list[list[MessageRef]]:
        groups: dict[str, list[MessageRef]] = {}
        for node, ref in self._messages:
            groups.setdefault(self._find(node), []).append(ref)
        return list(groups.values())  # dicts keep first-seen order

    def _find(self, node: str) -> str:
        self._parent.setdefault(node, node)
        root = node
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[node] != root:  # path compression
            following = self._parent[node]
            self._parent[node] = root
            node = following
        return root

    def _union(self, left: str, right: str) -> None:
        a, b = self._find(left), self._find(right)
        if a != b:
            self._parent[b] = a


def index_messages(
    paths: Sequence[Path], heads: dict[Path, str], index: ThreadIndex
) -> Iterator[IngestError]:
    ordinal = 0
    for path in paths:
        try:
            if is_mbox(path, heads.get(path, "")):
                box = open_mbox(path)
                try:
                    for key in box.iterkeys():
                        with box.get_file(key) as handle:
                            block = read_header_block(handle)  # type: ignore[arg-type]
                        _add(index, path, int(key), block, ordinal)
                        ordinal += 1
                finally:
                    box.close()
            else:
                with path.open("rb") as handle:
                    _add(index, path, None, read_header_block(handle), ordinal)
                ordinal += 1
        except OSError as exc:
            yield IngestError(f"cannot read file ({exc.strerror})", path=str(path))


def _add(index: ThreadIndex, path: Path, key: int | None, block: bytes, ordinal: int) -> None:
    headers = _PARSER.parsebytes(block)
    own = _IDS.findall(str(headers.get("Message-ID", "") or ""))
    links = [f"id:{i}" for i in _IDS.findall(str(headers.get("In-Reply-To", "") or ""))]
    links += [f"id:{i}" for i in _IDS.findall(str(headers.get("References", "") or ""))]
    thread_id = str(headers.get("X-GM-THRID", "") or "").strip()
    if thread_id:
        links.append(f"gmail:{thread_id}")
    index.add(MessageRef(path, key, own[0] if own else None, ordinal), links)
