"""The reviewed set back into eval/: rewrite the `gold:` lines of the affected case files, and
append the decisions to `eval/signals/reviews.jsonl`.

Only the keys of the gold block that change (`sentiment`, `intents`, `risk_flags`,
`expansion_signals`) are rewritten, in the files' own flow style (`- {type: …, speaker_role:
…}`); the rest of each file (turns, rationale, comments, key order) is kept byte for byte, so
a review is a small diff. Each rewritten file is loaded back through the dataset loader and
compared with the intended gold before it replaces the original (atomically).

Why a separate `reviews.jsonl` rather than a `review:` list in each case file: the loader is
strict (`extra="forbid"`, it catches typos in hand-written labels) and every consumer of the
cases would have to learn the new key; an audit trail is naturally an append-only log; and
the case files then change only where gold changed. One JSON object a line: report, case,
kind, label, side, disagreement, decision, the resulting labels, reviewer, decided_at,
exported_at, applied (whether it was the decision in force). No text, labels only.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from convsignal.evaluation.review import ITEM_KINDS, SENTIMENT, ReviewError, apply_to_gold
from convsignal.evaluation.signal_dataset import DatasetError, LabelledCase, load_case
from convsignal.store.review_tables import ReviewDecision
from convsignal.store.tables import as_utc

__all__ = ["ExportResult", "audit_path_for", "export_reviewed", "rewrite_gold_block"]

_EXPORT_LOCK = threading.Lock()  # two exports at once would interleave file rewrites
_TOP_KEY = re.compile(r"^[^\s#]")
_GOLD_LINE = re.compile(r"^gold:[ \t]*(#.*)?$")
_SUB_KEY = re.compile(r"^(?P<indent>[ ]+)(?P<key>[A-Za-z_][A-Za-z0-9_]*):")
LABEL_KEYS = (SENTIMENT, *ITEM_KINDS)


@dataclass
class ExportResult:
    changed: list[str] = field(default_factory=list)  # case ids whose gold was rewritten
    unchanged: list[str] = field(default_factory=list)  # decided, but gold already says so
    missing: list[str] = field(default_factory=list)  # decided cases with no file any more
    decisions_applied: int = 0
    audit_lines: int = 0
    audit_path: Path | None = None


def audit_path_for(cases_dir: Path) -> Path:
    """eval/signals/cases → eval/signals/reviews.jsonl (outside the folder the loader reads)."""
    return cases_dir.parent / "reviews.jsonl"


def _gold_mapping(case: LabelledCase) -> dict[str, Any]:
    return case.gold.model_dump(mode="json")


def _comparable(gold: Mapping[str, Any]) -> dict[str, Any]:
    """Gold's labels as sets, so order and duplicates do not count as a change."""
    out: dict[str, Any] = {SENTIMENT: gold.get(SENTIMENT)}
    for kind in ITEM_KINDS:
        out[kind] = sorted(
            {(str(i["type"]), str(i.get("speaker_role", "customer"))) for i in gold.get(kind) or []}
        )
    return out


def _render_key(key: str, gold: Mapping[str, Any], indent: str) -> list[str]:
    if key == SENTIMENT:
        return [f"{indent}{key}: {gold[key]}\n"]
    items = gold.get(key) or []
    if not items:
        return [f"{indent}{key}: []\n"]
    lines = [f"{indent}{key}:\n"]
    for item in items:
        role = item.get("speaker_role", "customer")
        lines.append(f"{indent}  - {{type: {item['type']}, speaker_role: {role}}}\n")
    return lines


def rewrite_gold_block(text: str, new_gold: Mapping[str, Any], keys: Iterable[str]) -> str:
    """`text` (a case file) with the gold block's `keys` rendered from `new_gold`; every other
    line untouched. A key the block lacks is added before `rationale` (or at its end)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if _GOLD_LINE.match(line.rstrip("\r\n"))), None)
    if start is None:
        raise ReviewError("no block-style `gold:` key to rewrite")
    end = next((i for i in range(start + 1, len(lines)) if _TOP_KEY.match(lines[i])), len(lines))
    body = lines[start + 1 : end]
    indent: str | None = None
    segments: list[tuple[str | None, list[str]]] = [(None, [])]  # (key, its lines)
    for line in body:
        match = _SUB_KEY.match(line)
        if match and (indent is None or match["indent"] == indent):
            indent = match["indent"]
            segments.append((match["key"], []))
        segments[-1][1].append(line)
    if indent is None:
        raise ReviewError("the `gold:` block has no keys")
    for key in keys:
        rendered = _render_key(key, new_gold, indent)
        position = next((n for n, (k, _) in enumerate(segments) if k == key), None)
        if position is not None:
            old = segments[position][1]
            trailing = len(old) - len(_strip_blank_tail(old))
            segments[position] = (key, rendered + old[len(old) - trailing :])
            continue
        at = next((n for n, (k, _) in enumerate(segments) if k == "rationale"), None)
        if at is None:  # at the end, before the blank lines that close the block
            last_key, last = segments[-1]
            kept = _strip_blank_tail(last)
            segments[-1] = (last_key, kept)
            segments.append((key, rendered + last[len(kept) :]))
        else:
            segments.insert(at, (key, rendered))
    new_body = [line for _, segment in segments for line in segment]
    return "".join([*lines[: start + 1], *new_body, *lines[end:]])


def _strip_blank_tail(lines: list[str]) -> list[str]:
    end = len(lines)
    while end > 1 and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _rewrite_case(path: Path, decisions: Sequence[ReviewDecision]) -> bool:
    """Apply `decisions` to the case file's gold; True when the file changed."""
    case = load_case(path)
    old_gold = _gold_mapping(case)
    new_gold = apply_to_gold(old_gold, decisions)
    before, after = _comparable(old_gold), _comparable(new_gold)
    changed_keys = [key for key in LABEL_KEYS if before[key] != after[key]]
    if not changed_keys:
        return False
    original = path.read_text(encoding="utf-8")
    try:
        rewritten = rewrite_gold_block(original, new_gold, changed_keys)
        check = LabelledCase.model_validate(yaml.safe_load(rewritten))
    except (ReviewError, yaml.YAMLError, ValueError) as exc:
        raise ReviewError(f"{path}: cannot rewrite its gold block: {exc}") from None
    if _comparable(_gold_mapping(check)) != after:
        raise ReviewError(f"{path}: the rewritten gold block does not read back as decided")
    _write_atomically(path, rewritten)
    load_case(path)  # the loader still loads it (raises DatasetError otherwise)
    return True


def _audit_key(entry: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(entry.get(k))
        for k in ("report", "case_id", "kind", "label", "decision", "reviewer", "decided_at")
    )


def _append_audit(
    audit_path: Path, decisions: Sequence[ReviewDecision], in_force: set[int], now: datetime
) -> int:
    seen: set[tuple[str, ...]] = set()
    if audit_path.exists():
        for number, line in enumerate(audit_path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    seen.add(_audit_key(json.loads(line)))
                except ValueError:
                    raise ReviewError(f"{audit_path}:{number}: not a JSON line") from None
    entries = []
    for decision in sorted(decisions, key=lambda d: d.id or 0):
        entry = {
            "report": decision.report,
            "case_id": decision.case_id,
            "extractor": decision.extractor,
            "kind": decision.kind,
            "label": decision.label,
            "side": decision.side,
            "disagreement": decision.disagreement,
            "decision": decision.decision,
            "labels": decision.labels,
            "reviewer": decision.reviewer,
            "decided_at": as_utc(decision.created_at).isoformat(),
            "exported_at": now.isoformat(timespec="seconds"),
            "applied": decision.id in in_force,
        }
        if _audit_key(entry) not in seen:
            seen.add(_audit_key(entry))
            entries.append(json.dumps(entry, ensure_ascii=False, sort_keys=False))
    if entries:
        with audit_path.open("a", encoding="utf-8") as file:
            file.write("".join(f"{entry}\n" for entry in entries))
    return len(entries)


def export_reviewed(
    cases_dir: Path,
    in_force: Mapping[tuple[str, str, str], ReviewDecision],
    history: Sequence[ReviewDecision],
    *,
    audit_path: Path | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Rewrite gold in `cases_dir/<case>.yaml` per the decisions in force; append `history`
    (every decision of the report) to the audit log, each line once however often this runs."""
    if not cases_dir.is_dir():
        raise ReviewError(f"{cases_dir}: no such labelled-set folder")
    audit_path = audit_path or audit_path_for(cases_dir)
    result = ExportResult(audit_path=audit_path)
    by_case: dict[str, list[ReviewDecision]] = {}
    for decision in in_force.values():
        by_case.setdefault(decision.case_id, []).append(decision)
    with _EXPORT_LOCK:
        for case_id in sorted(by_case):
            path = cases_dir / f"{case_id}.yaml"
            if not path.is_file():
                result.missing.append(case_id)
                continue
            try:
                changed = _rewrite_case(path, by_case[case_id])
            except DatasetError as exc:
                raise ReviewError(str(exc)) from None
            (result.changed if changed else result.unchanged).append(case_id)
            result.decisions_applied += len(by_case[case_id])
        ids = {d.id for d in in_force.values() if d.id is not None}
        found = [d for d in history if d.case_id not in result.missing]
        result.audit_lines = _append_audit(audit_path, found, ids, now or datetime.now(UTC))
    return result
