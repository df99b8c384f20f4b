"""HTML message bodies (email, Intercom, Zendesk, Freshdesk) to plain text with inscriptis,
which keeps the layout (paragraphs, lists, tables) a reader would see.

`drop_quotes` removes what mail clients put below a reply: Gmail's `div.gmail_quote`,
Apple Mail's and Thunderbird's `blockquote type=cite`, Outlook's `#divRplyFwdMsg` /
`#appendonsend` and everything after them, Yahoo's `.yahoo_quoted`.
"""

from __future__ import annotations

import re

from inscriptis import Inscriptis
from inscriptis.model.config import ParserConfig
from lxml.etree import ParserError
from lxml.html import HtmlElement, document_fromstring

_CONFIG = ParserConfig(display_links=False, display_anchors=False)
_QUOTE_NODES = (
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]"
    " | //blockquote[@type='cite']"
    " | //div[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]"
)
_OUTLOOK_MARKERS = "//*[@id='divRplyFwdMsg' or @id='appendonsend']"
_BLANK_RUNS = re.compile(r"\n\s*\n\s*\n+")


def html_to_text(html: str, *, drop_quotes: bool = False) -> str:
    if not html.strip():
        return ""
    try:
        tree = document_fromstring(html)
    except (ParserError, ValueError):
        return ""
    if drop_quotes:
        _drop_quotes(tree)
    text = Inscriptis(tree, _CONFIG).get_text()
    lines = "\n".join(line.strip() for line in text.splitlines())
    return _BLANK_RUNS.sub("\n\n", lines).strip()


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith("<") and any(
        tag in head for tag in ("<p", "<div", "<br", "<html", "<span", "<table", "<b>", "<a ")
    )


def _drop_quotes(tree: HtmlElement) -> None:
    for node in tree.xpath(_QUOTE_NODES):
        node.drop_tree()
    for marker in tree.xpath(_OUTLOOK_MARKERS):
        parent = marker.getparent()
        if parent is None:
            continue
        following = list(marker.itersiblings())
        previous = marker.getprevious()
        if previous is not None and previous.tag == "hr":
            previous.drop_tree()
        for node in [marker, *following]:
            if node.getparent() is not None:
                node.drop_tree()
