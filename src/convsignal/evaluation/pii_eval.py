"""Run the PII evaluation set through the scrubber and through vanilla Presidio.

Three systems on the same snippets:
- `convsignal`: the scrubber as the pipeline runs it, with the snippet's metadata
  (participants, account name) and the configured allow-list plus the dataset's own
  (the fictional vendor's company and product names, as a user would configure them);
- `convsignal (text only)`: the same without metadata, as `rescan` sees a string;
- `presidio`: Presidio's default `AnalyzerEngine` on the same spaCy model, no allow-list.

Results carry ids, labels and offsets only; no snippet text leaves this module.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convsignal.domain import Participant, Role
from convsignal.errors import ConfigError
from convsignal.evaluation.pii_metrics import Result, Span, evaluate, wrongly_scrubbed
from convsignal.scrub import PiiSpan, Scrubber
from convsignal.scrub.baseline import VanillaPresidio

SYSTEMS = ("convsignal", "convsignal (text only)", "presidio")
GOAL_RECALL = {"PERSON": 0.95, "EMAIL_ADDRESS": 0.95, "PHONE_NUMBER": 0.95, "CREDIT_CARD": 0.95}
GOAL_F2 = 0.90
GOAL_WRONGLY_SCRUBBED = 0.02


@dataclass(frozen=True, slots=True)
class Snippet:
    id: str
    style: str
    split: str
    text: str
    participants: tuple[Participant, ...]
    account_name: str | None
    spans: tuple[Span, ...]
    keep: tuple[Span, ...]  # business names that must survive; label = kind


@dataclass(frozen=True, slots=True)
class PiiDataset:
    version: int
    allow_list: tuple[str, ...]
    snippets: tuple[Snippet, ...]


@dataclass
class SystemReport:
    name: str
    result: Result
    wrongly_scrubbed: list[tuple[str, Span]] = field(default_factory=list)
    keep_by_kind: Counter[str] = field(default_factory=Counter)
    wrong_by_kind: Counter[str] = field(default_factory=Counter)
    chars: int = 0
    seconds: float = 0.0

    @property
    def wrongly_scrubbed_share(self) -> float:
        total = sum(self.keep_by_kind.values())
        return len(self.wrongly_scrubbed) / total if total else 0.0


def load_dataset(path: Path) -> PiiDataset:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        snippets = tuple(_snippet(item) for item in raw["snippets"])
        return PiiDataset(int(raw["version"]), tuple(raw.get("allow_list", ())), snippets)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: PII evaluation set not found; run from the repository root or pass "
            "--dataset eval/pii/dataset.json"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a PII evaluation set ({type(exc).__name__})") from None


def _snippet(item: dict[str, Any]) -> Snippet:
    return Snippet(
        id=item["id"],
        style=item["style"],
        split=item.get("split", "dev"),
        text=item["text"],
        participants=tuple(
            Participant(p["name"], Role(p.get("role", "unknown")), p.get("email"))
            for p in item.get("participants", ())
        ),
        account_name=item.get("account_name"),
        spans=tuple(Span(s["start"], s["end"], s["label"]) for s in item["spans"]),
        keep=tuple(Span(k["start"], k["end"], k["kind"]) for k in item.get("keep", ())),
    )


def run_pii_evaluation(
    dataset: PiiDataset,
    *,
    spacy_model: str,
    allow_list: Sequence[str],
    split: str | None = None,
    iou_threshold: float = 0.5,
    systems: Sequence[str] = SYSTEMS,
) -> list[SystemReport]:
    snippets = [s for s in dataset.snippets if split in (None, "all", s.split)]
    scrubber = Scrubber(spacy_model=spacy_model, allow_list=[*allow_list, *dataset.allow_list])
    finders: dict[str, Callable[[Snippet], list[PiiSpan]]] = {
        "convsignal": lambda s: scrubber.find_pii(
            [s.text], participants=s.participants, account_name=s.account_name
        )[0],
        "convsignal (text only)": lambda s: scrubber.find_pii([s.text])[0],
    }
    if "presidio" in systems:
        vanilla = VanillaPresidio(spacy_model)
        finders["presidio"] = lambda s: vanilla.find_pii([s.text])[0]
    return [_run(name, finders[name], snippets, iou_threshold) for name in systems]


def _run(
    name: str,
    find: Callable[[Snippet], list[PiiSpan]],
    snippets: Sequence[Snippet],
    iou_threshold: float,
) -> SystemReport:
    report = SystemReport(name, Result())
    items = []
    started = time.perf_counter()
    for snippet in snippets:
        predicted = [Span(p.start, p.end, p.entity) for p in find(snippet)]
        items.append((snippet.id, snippet.text, snippet.spans, predicted))
        report.keep_by_kind.update(k.label for k in snippet.keep)
        for kept in wrongly_scrubbed(snippet.keep, predicted):
            report.wrongly_scrubbed.append((snippet.id, kept))
            report.wrong_by_kind[kept.label] += 1
        report.chars += len(snippet.text)
    report.seconds = time.perf_counter() - started
    report.result = evaluate(items, iou_threshold=iou_threshold)
    return report


def goals(report: SystemReport) -> list[tuple[str, bool]]:
    """The issue's targets, checked on one system's report."""
    per_type = report.result.per_type
    checks = [
        (f"recall {label} ≥ {goal:.2f}", per_type[label].recall >= goal)
        for label, goal in GOAL_RECALL.items()
    ]
    checks.append((f"overall F2 ≥ {GOAL_F2:.2f}", report.result.pii.f_beta() >= GOAL_F2))
    checks.append(
        (
            f"business names wrongly scrubbed ≤ {GOAL_WRONGLY_SCRUBBED:.0%}",
            report.wrongly_scrubbed_share <= GOAL_WRONGLY_SCRUBBED,
        )
    )
    return checks
