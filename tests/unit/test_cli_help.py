"""`--help` text is reflowed so rich wraps it to the terminal, not at the source's 88."""

from __future__ import annotations

from typer.testing import CliRunner

from convsignal.cli import app
from convsignal.cli.helptext import reflow


def test_prose_lines_join_and_examples_and_bullets_stay() -> None:
    text = """First line.

        A paragraph wrapped
        at the source's width.

        - a bullet that
          continues
        - another bullet

        Example:

            convsignal score --as-of 2026-10-31
            convsignal score --format json

        Run it like this:
            convsignal score
        """
    assert reflow(text).split("\n\n") == [
        "First line.",
        "A paragraph wrapped at the source's width.",
        "- a bullet that continues\n- another bullet",
        "Example:",
        "    convsignal score --as-of 2026-10-31\n    convsignal score --format json",
        "Run it like this:\n    convsignal score",
    ]


def test_every_command_help_has_no_hard_breaks_inside_prose() -> None:
    def check(typer_app: object) -> int:
        checked = 0
        for command in typer_app.registered_commands:  # type: ignore[attr-defined]
            for paragraph in (command.help or "").split("\n\n"):
                lines = paragraph.split("\n")
                if not any(line.startswith(("    ", "- ", "* ", "\b")) for line in lines):
                    assert len(lines) == 1, (command.name, paragraph)
            checked += 1
        for group in typer_app.registered_groups:  # type: ignore[attr-defined]
            checked += check(group.typer_instance)
        return checked

    assert check(app) >= 20


def test_help_renders_to_the_terminal_width() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["score", "--help"], env={"COLUMNS": "100"}, terminal_width=100)
    assert result.exit_code == 0
    # the docstring's second paragraph, wrapped at 88 in the source, comes out as one block
    # filled to the width: its first printed line runs past the source's break
    line = next(x for x in result.output.splitlines() if "Worst first." in x)
    assert "insufficient_signal" in line, line  # the source breaks after "shown as"
