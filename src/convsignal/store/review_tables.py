"""The RevOps review's audit trail: one row per decision a reviewer took on a disagreement.

Append-only. A decision is about one *slot* of one case's gold labels, (case, kind, label):
e.g. (call-fintech-001, risk_flags, champion_leaving) or (…, sentiment, sentiment). The newest
row per slot and report wins; the older ones stay, so the table is the history of who decided
what, when. `side` notes the speaker role(s) the disagreement was about.

No text: `labels` holds the slot's resulting labels only (closed-enum values and speaker
roles, e.g. `[{"type": "budget_cuts", "speaker_role": "customer"}]`), never evidence or turns.
`reviewer` is the name the reviewer typed in the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from convsignal.store.tables import utcnow


class ReviewDecision(SQLModel, table=True):
    __tablename__ = "review_decisions"
    __table_args__ = (Index("ix_review_decisions_slot", "report", "case_id", "kind", "label"),)

    id: int | None = Field(default=None, primary_key=True)
    report: str = Field(max_length=200)  # the eval report's file name the case was shown from
    case_id: str = Field(max_length=200)
    extractor: str = Field(max_length=200)  # whose output disagreed with gold
    kind: str = Field(max_length=30)  # sentiment | intents | risk_flags | expansion_signals
    label: str = Field(max_length=60)  # the label type; "sentiment" for the sentiment slot
    side: str = Field(default="", max_length=40)  # speaker role(s) at issue; "" for sentiment
    disagreement: str = Field(max_length=20)  # gold_only | model_only | sentiment
    decision: str = Field(max_length=20)  # accept_model | keep_gold | edit
    labels: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )  # the slot's labels after the decision
    reviewer: str = Field(max_length=100)
    api_key_id: int | None = None  # the key the page used (no foreign key: keys get deleted)
    created_at: datetime = Field(default_factory=utcnow)
