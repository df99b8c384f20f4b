"""Prompt files → messages, and the prompt version.

The prompt lives in `prompts/extract_signals/` (shipped in the wheel as
`convsignal/_prompts/extract_signals/`): `system.j2`, `user.j2` and `examples.yaml`. The
prompt version is a hash of those files *and* of the response schema, so changing either
re-keys idempotency: the next run re-extracts instead of mixing versions silently.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
import yaml
from pydantic import ValidationError

from convsignal.domain import ScrubbedConversation
from convsignal.errors import ConfigError
from convsignal.extract.schema import ConversationSignals

PROMPT_FILES = ("system.j2", "user.j2", "examples.yaml")


def prompts_root() -> Path:
    """The wheel's `_prompts` folder when installed, else the checkout's `prompts/`."""
    shipped = files("convsignal") / "_prompts"
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[3] / "prompts"


@dataclass(frozen=True, slots=True)
class PromptSet:
    """A loaded, validated prompt: render it per conversation; `version` keys idempotency."""

    system: str
    user_template: jinja2.Template
    version: str
    folder: Path | None = None  # where it was loaded from (a worker process loads it again)

    def user_message(
        self, conversation: ScrubbedConversation, *, part: int = 0, parts: int = 0
    ) -> str:
        turns = [
            {
                "speaker": turn.speaker,
                "role": turn.role.value,
                "text": defuse_markers(turn.text),
                "internal": turn.internal,
            }
            for turn in conversation.turns
        ]
        return self.user_template.render(
            channel=conversation.channel.value,
            occurred_at=conversation.occurred_at.date().isoformat(),
            subject=defuse_markers(conversation.subject) if conversation.subject else None,
            turns=turns,
            part=part,
            parts=parts,
        )


def defuse_markers(text: str) -> str:
    """The conversation cannot close its own data block: marker look-alikes are bent."""
    return text.replace("<<<", "‹‹‹").replace(">>>", "›››")


def _environment() -> jinja2.Environment:
    # Plain text, not HTML: no autoescape. StrictUndefined: a typo in a template fails loudly.
    return jinja2.Environment(
        autoescape=False,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@cache
def load_prompt(folder: Path | None = None) -> PromptSet:
    folder = folder or prompts_root() / "extract_signals"
    raw: dict[str, bytes] = {}
    for name in PROMPT_FILES:
        try:
            raw[name] = (folder / name).read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"prompt file {folder / name} cannot be read ({exc.strerror})"
            ) from None
    environment = _environment()
    try:
        system_template = environment.from_string(raw["system.j2"].decode("utf-8"))
        user_template = environment.from_string(raw["user.j2"].decode("utf-8"))
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(
            f"prompt template in {folder}: line {exc.lineno}: {exc.message}"
        ) from None
    examples = _examples(folder / "examples.yaml", raw["examples.yaml"])
    system = system_template.render() + _render_examples(examples)
    schema = json.dumps(ConversationSignals.model_json_schema(), sort_keys=True).encode()
    digest = hashlib.sha256()
    for name in PROMPT_FILES:
        digest.update(name.encode() + b"\0" + raw[name] + b"\0")
    digest.update(schema)
    return PromptSet(
        system=system,
        user_template=user_template,
        version=digest.hexdigest()[:12],
        folder=folder,
    )


def _examples(path: Path, raw: bytes) -> list[dict[str, Any]]:
    try:
        examples = yaml.safe_load(raw) or []
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(examples, list):
        raise ConfigError(f"{path}: expected a list of examples")
    for index, example in enumerate(examples, start=1):
        if not isinstance(example, dict) or "turns" not in example or "answer" not in example:
            raise ConfigError(f"{path}: example {index} needs 'turns' and 'answer'")
        try:
            ConversationSignals.model_validate(example["answer"])
        except ValidationError as exc:
            raise ConfigError(f"{path}: example {index} answer is invalid: {exc}") from None
    return examples


def _render_examples(examples: list[dict[str, Any]]) -> str:
    if not examples:
        return ""
    parts = ["\n\nExamples (synthetic):"]
    for index, example in enumerate(examples, start=1):
        lines = "\n".join(f"{t['speaker']} ({t['role']}): {t['text']}" for t in example["turns"])
        answer = json.dumps(example["answer"], ensure_ascii=False)
        parts.append(
            f"\nExample {index} ({example.get('channel', 'call')}):\n"
            f"<<<CONVERSATION>>>\n{lines}\n<<<END CONVERSATION>>>\nAnswer: {answer}"
        )
    return "\n".join(parts)
