"""What one email message says, without the history it quotes or the sender's signature.

text/plain is preferred (mail clients write it for exactly this); an HTML-only message is
turned into text with its quote blocks removed first (`html_text`). mail-parser-reply then
splits the text at reply headers ("On … wrote:", "From: … Sent: …", in several languages)
and separates the signature; lines still starting with ">" are quoted and dropped. A
forwarded message keeps the forwarded part: it is not quoted anywhere else in the thread.
"""

from __future__ import annotations

import re
from email.message import Message

from mailparser_reply import EmailReplyParser

from convsignal.ingest.html_text import html_to_text
from convsignal.ingest.text_io import decode

_REPLY_PARSER = EmailReplyParser(languages=["en", "de", "fr", "es", "nl", "it", "sv", "da"])
_FORWARD_MARKER = re.compile(
    r"^-{2,}\s*(forwarded message|original message|weitergeleitete nachricht)", re.IGNORECASE
)
_BLANK_RUNS = re.compile(r"\n\s*\n\s*\n+")


def body_text(message: Message) -> str:
    """The message's own words. Works on the fast `compat32` message model: the modern
    header registry costs more than the rest of the parsing together."""
    plain: Message | None = None
    html: Message | None = None
    for part in message.walk():
        if part.is_multipart():
            continue
        if str(part.get("Content-Disposition", "")).lower().startswith("attachment"):
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = part
        elif kind == "text/html" and html is None:
            html = part
    if plain is not None:
        return strip_reply(_content(plain))
    if html is not None:
        return strip_reply(html_to_text(_content(html), drop_quotes=True))
    return ""


def _content(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return decode(payload)


def strip_reply(text: str) -> str:
    """The new text of one message: quoted replies and the signature removed."""
    text = _unquoted(text)  # ">" lines first: the parser's regexes then scan far less
    if not text.strip():
        return ""
    replies = _REPLY_PARSER.read(text).replies
    if not replies:
        return ""
    kept = [_unquoted(replies[0].body)]
    if _FORWARD_MARKER.search(replies[0].content.splitlines()[-1] if replies[0].content else ""):
        kept[0] = "\n".join(kept[0].splitlines()[:-1])
        kept.extend(_unquoted(reply.body) for reply in replies[1:])
    joined = "\n\n".join(part for part in kept if part)
    return _BLANK_RUNS.sub("\n\n", joined).strip()


def _unquoted(text: str) -> str:
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()
