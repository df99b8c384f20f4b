"""The response model an LLM fills in (through instructor) and every extractor maps to.

Closed enums are the defence against injected instructions: whatever the conversation says,
the model can only choose among known labels. Field descriptions are written for the model.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from convsignal.domain import (
    ExpansionSignal,
    Intent,
    Role,
    SentimentLabel,
    SignalKind,
    Trajectory,
)
from convsignal.domain import RiskFlag as RiskFlagType

EVIDENCE_MAX_CHARS = 200
_SCHEMA_CACHE: dict[Any, dict[str, Any]] = {}


def _clip(text: str) -> str:
    """Over-long evidence is cut, not re-asked: a re-ask costs a whole call for no signal."""
    text = " ".join(text.split())
    return text if len(text) <= EVIDENCE_MAX_CHARS else text[: EVIDENCE_MAX_CHARS - 1] + "…"


Evidence = Annotated[str, AfterValidator(_clip)]


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confidence: float = Field(ge=0.0, le=1.0, description="How sure you are, 0..1.")
    speaker_role: Role = Field(
        description="Side of the person who expressed it: customer, vendor or unknown."
    )
    evidence: Evidence = Field(
        description=(
            "A short quote or paraphrase from the conversation, at most 200 characters "
            "(keep placeholders such as <CUSTOMER_1> as they are)."
        ),
    )


class IntentItem(_Item):
    type: Intent = Field(description="The customer's intent, from the closed list.")


class RiskFlagItem(_Item):
    type: RiskFlagType = Field(description="The churn-risk signal, from the closed list.")


class ExpansionItem(_Item):
    type: ExpansionSignal = Field(description="The expansion signal, from the closed list.")


class Sentiment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: SentimentLabel = Field(description="Overall customer-side sentiment.")
    score: float = Field(ge=-1.0, le=1.0, description="-1 very negative … 1 very positive.")
    trajectory: Trajectory = Field(description="How sentiment moved from start to end.")
    confidence: float = Field(default=0.8, ge=0.0, le=1.0, description="How sure you are, 0..1.")


class ConversationSignals(BaseModel):
    """Everything extracted from one conversation."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Cached: instructor asks for the schema twice per request, and generating it is
        about half the client's CPU per call. The model is fixed, so the schema is too."""
        key = (cls, args, tuple(sorted(kwargs.items())))
        try:
            cached = _SCHEMA_CACHE[key]
        except (KeyError, TypeError):
            cached = super().model_json_schema(*args, **kwargs)
            with contextlib.suppress(TypeError):
                _SCHEMA_CACHE[key] = cached
        return copy.deepcopy(cached)

    sentiment: Sentiment
    intents: list[IntentItem] = Field(default_factory=list)
    risk_flags: list[RiskFlagItem] = Field(default_factory=list)
    expansion_signals: list[ExpansionItem] = Field(default_factory=list)


KIND_OF_LIST: dict[str, SignalKind] = {
    "intents": SignalKind.INTENT,
    "risk_flags": SignalKind.RISK_FLAG,
    "expansion_signals": SignalKind.EXPANSION_SIGNAL,
}
