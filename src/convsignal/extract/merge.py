"""From the response model to stored signals, and merging the answers of several chunks.

One signal per (kind, type, speaker side) per conversation: when chunks overlap or the model
repeats itself, the most confident instance is kept (with its evidence). Sentiment of a
chunked conversation is the confidence-weighted mean score; it is `escalating` when any chunk
escalates, and its trajectory compares the first chunk with the last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from convsignal.domain import ExtractedSignal, Role, SentimentLabel, SignalKind, Trajectory
from convsignal.extract.schema import KIND_OF_LIST, ConversationSignals

POSITIVE_AT = 0.25
NEGATIVE_AT = -0.25
TRAJECTORY_DELTA = 0.15


def signals_from_model(model: ConversationSignals) -> list[ExtractedSignal]:
    signals = [
        ExtractedSignal(
            kind=SignalKind.SENTIMENT,
            signal_type=model.sentiment.label.value,
            confidence=model.sentiment.confidence,
            speaker_role=Role.CUSTOMER,
            evidence="",
            score=model.sentiment.score,
        )
    ]
    for field, kind in KIND_OF_LIST.items():
        for item in getattr(model, field):
            signals.append(
                ExtractedSignal(
                    kind=kind,
                    signal_type=item.type.value,
                    confidence=item.confidence,
                    speaker_role=item.speaker_role,
                    evidence=item.evidence,
                )
            )
    return signals


def dedupe(signals: Iterable[ExtractedSignal]) -> tuple[ExtractedSignal, ...]:
    """Keep the most confident signal per (kind, type, side); stable, sorted output."""
    best: dict[tuple[str, str, str], ExtractedSignal] = {}
    for signal in signals:
        key = (signal.kind.value, signal.signal_type, signal.speaker_role.value)
        if key not in best or signal.confidence > best[key].confidence:
            best[key] = signal
    return tuple(best[key] for key in sorted(best))


def merge_chunks(chunks: Sequence[Sequence[ExtractedSignal]]) -> tuple[ExtractedSignal, ...]:
    if len(chunks) == 1:
        return dedupe(chunks[0])
    sentiments = [
        next((s for s in chunk if s.kind is SignalKind.SENTIMENT), None) for chunk in chunks
    ]
    others = [s for chunk in chunks for s in chunk if s.kind is not SignalKind.SENTIMENT]
    merged = list(dedupe(others))
    present = [s for s in sentiments if s is not None]
    if present:
        merged.append(_merge_sentiment(present))
    return tuple(sorted(merged, key=lambda s: (s.kind.value, s.signal_type, s.speaker_role.value)))


def _merge_sentiment(parts: Sequence[ExtractedSignal]) -> ExtractedSignal:
    weight = sum(p.confidence for p in parts) or 1.0
    score = sum(p.score * p.confidence for p in parts) / weight
    if any(p.signal_type == SentimentLabel.ESCALATING for p in parts):
        label = SentimentLabel.ESCALATING
    elif score >= POSITIVE_AT:
        label = SentimentLabel.POSITIVE
    elif score <= NEGATIVE_AT:
        label = SentimentLabel.NEGATIVE
    else:
        label = SentimentLabel.NEUTRAL
    return ExtractedSignal(
        kind=SignalKind.SENTIMENT,
        signal_type=label.value,
        confidence=max(p.confidence for p in parts),
        speaker_role=parts[0].speaker_role,
        evidence="",
        score=max(-1.0, min(1.0, score)),
    )


def trajectory(parts: Sequence[ExtractedSignal]) -> Trajectory:
    if len(parts) < 2:
        return Trajectory.STABLE
    delta = parts[-1].score - parts[0].score
    if delta >= TRAJECTORY_DELTA:
        return Trajectory.IMPROVING
    if delta <= -TRAJECTORY_DELTA:
        return Trajectory.DECLINING
    return Trajectory.STABLE
