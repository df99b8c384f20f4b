"""Answers for the fake LLM server: the default one, and a builder for gold-label answers.

An answer is the tool input the fake "model" returns: a dict valid for ConversationSignals.
`signals_answer` builds one from labels (for example a gold-labelled case) and validates it
against the real response model, so a typo in a test's labels fails at once, not as a
mysterious extraction error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from convsignal.extract.schema import ConversationSignals
from convsignal.testing.wire import RequestInfo

_SCORE_OF_LABEL = {"positive": 0.6, "neutral": 0.0, "negative": -0.6, "escalating": -0.8}
ItemSpec = str | Mapping[str, Any]


def signals_answer(
    sentiment: str = "neutral",
    *,
    score: float | None = None,
    trajectory: str = "stable",
    intents: Iterable[ItemSpec] = (),
    risk_flags: Iterable[ItemSpec] = (),
    expansion_signals: Iterable[ItemSpec] = (),
    confidence: float = 0.9,
    speaker_role: str = "customer",
    evidence: str = "(fake model evidence)",
) -> dict[str, Any]:
    """A validated ConversationSignals answer.

    Items are given as a type name (`"budget_cuts"`) filled with the defaults, or as a full
    item mapping whose keys override the defaults.
    """

    def items(specs: Iterable[ItemSpec]) -> list[dict[str, Any]]:
        defaults = {"confidence": confidence, "speaker_role": speaker_role, "evidence": evidence}
        return [
            {**defaults, "type": spec} if isinstance(spec, str) else {**defaults, **spec}
            for spec in specs
        ]

    answer = {
        "sentiment": {
            "label": sentiment,
            "score": _SCORE_OF_LABEL.get(sentiment, 0.0) if score is None else score,
            "trajectory": trajectory,
        },
        "intents": items(intents),
        "risk_flags": items(risk_flags),
        "expansion_signals": items(expansion_signals),
    }
    return ConversationSignals.model_validate(answer).model_dump(mode="json")


NEUTRAL_SIGNALS: Mapping[str, Any] = signals_answer()


def neutral_responder(info: RequestInfo) -> Mapping[str, Any]:
    """The default responder: neutral, stable sentiment and no items, whatever was asked."""
    del info
    return NEUTRAL_SIGNALS
