"""`--help` that reads well at any terminal width.

Command docstrings are wrapped at 88 columns in the source. Typer (0.29, rich mode) keeps
every single line break, so on an 80-column terminal each long line wraps again and the
text comes out ragged. `reflow_help` joins the lines of each prose paragraph (and of each
`- ` bullet) so rich wraps them to the terminal; indented lines (examples) and blank lines
stay as written.
"""

from __future__ import annotations

import inspect

import typer


def reflow(text: str) -> str:
    """Join the wrapped lines of prose paragraphs and bullets; keep indented blocks."""
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        lines = paragraph.split("\n")
        if lines[0].startswith((" ", "\t", "\b")):
            paragraphs.append(paragraph)  # an example or a table: as written
            continue
        items: list[str] = []
        verbatim = False
        for line in lines:
            verbatim = verbatim or line.startswith(("    ", "\t"))  # an example from here on
            if verbatim or not items or line.startswith(("- ", "* ")):
                items.append(line)
            else:  # the wrapped rest of a sentence or of a bullet
                items[-1] += " " + line.strip()
        paragraphs.append("\n".join(items))
    return "\n\n".join(paragraphs)


def reflow_help(app: typer.Typer) -> None:
    """Reflow the help of every command and group under `app`, in place."""
    if app.info.help:
        app.info.help = reflow(app.info.help)
    for command in app.registered_commands:
        text = command.help or (inspect.getdoc(command.callback) if command.callback else None)
        if text:
            command.help = reflow(text)
    for group in app.registered_groups:
        if group.help:
            group.help = reflow(group.help)
        if group.typer_instance is not None:
            reflow_help(group.typer_instance)
