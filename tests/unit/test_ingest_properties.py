"""Properties of the parsers over generated inputs: instants, caption offsets, Gong's time
unit, and email threads where every reply quotes the whole history."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import srt
from hypothesis import given, settings
from hypothesis import strategies as st

from convsignal.ingest.common import parse_instant
from convsignal.ingest.gong import MILLISECONDS, SECONDS, offset_unit
from tests.unit.ingest_helpers import options, read

instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
WORDS = ["renewal", "seats", "dashboard", "export", "budget", "pilot", "rollout", "invoice"]
sentences = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)
SPEAKERS = ["Dana Whitfield", "Sam Patel", "Lee Ortiz"]


@given(instants)
def test_instants_round_trip_through_iso_and_epoch(moment: datetime) -> None:
    assert parse_instant(moment.isoformat()) == moment
    assert parse_instant(moment.isoformat().replace("+00:00", "Z")) == moment
    assert parse_instant(moment.replace(tzinfo=None).isoformat()) == moment  # naive = UTC
    assert abs(parse_instant(moment.timestamp()) - moment) < timedelta(microseconds=2)  # type: ignore[operator]
    millis = round(moment.timestamp() * 1000)
    assert abs(parse_instant(millis, epoch_unit=0.001) - moment) < timedelta(milliseconds=1)  # type: ignore[operator]


@given(st.datetimes(timezones=st.sampled_from([UTC, None])).map(lambda d: d.isoformat()))
def test_instants_are_always_utc(text: str) -> None:
    parsed = parse_instant(text)
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


@given(st.text(alphabet="abcxyz:- /", max_size=20))
def test_garbage_is_none_never_an_exception(text: str) -> None:
    result = parse_instant(text)
    assert result is None or isinstance(result, datetime)


def _alternating(cues: list[tuple[int, str, int]]) -> list[tuple[str, str, int]]:
    """(speaker index, text, start ms) → cues whose consecutive speakers differ, in order."""
    out: list[tuple[str, str, int]] = []
    start = 0
    for index, (_, text, gap) in enumerate(cues):
        start += gap
        out.append((SPEAKERS[index % 2], text, start))
    return out


cue_lists = st.lists(
    st.tuples(st.integers(0, 2), sentences, st.integers(1, 3_600_000)), min_size=1, max_size=12
).map(_alternating)


def _sidecar(folder: Path, stem: str) -> None:
    (folder / f"{stem}.meta.yaml").write_text("account: acme\noccurred_at: 2026-10-01T10:00:00Z\n")


@settings(max_examples=40, deadline=None)
@given(cue_lists)
def test_srt_round_trip(cues: list[tuple[str, str, int]]) -> None:
    subtitles = [
        srt.Subtitle(i + 1, timedelta(milliseconds=ms), timedelta(milliseconds=ms + 500),
                     f"{speaker}: {text}")
        for i, (speaker, text, ms) in enumerate(cues)
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "call.srt"
        path.write_text(srt.compose(subtitles))
        _sidecar(Path(folder), "call")
        (conversation,), _ = read(path)
    assert [(t.speaker, t.text, t.start_seconds) for t in conversation.turns] == [
        (speaker, text, ms / 1000) for speaker, text, ms in cues
    ]


def _vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


@settings(max_examples=40, deadline=None)
@given(cue_lists, st.booleans())
def test_vtt_round_trip_zoom_and_teams(cues: list[tuple[str, str, int]], teams: bool) -> None:
    blocks = ["WEBVTT", ""]
    for index, (speaker, text, ms) in enumerate(cues):
        line = f"<v {speaker}>{text}</v>" if teams else f"{speaker}: {text}"
        blocks += [str(index + 1), f"{_vtt_time(ms)} --> {_vtt_time(ms + 500)}", line, ""]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "call.vtt"
        path.write_text("\n".join(blocks))
        _sidecar(Path(folder), "call")
        (conversation,), _ = read(path)
    assert conversation.locator.format == ("teams-vtt" if teams else "zoom-vtt")
    assert [(t.speaker, t.text, t.start_seconds) for t in conversation.turns] == [
        (speaker, text, ms / 1000) for speaker, text, ms in cues
    ]


@given(st.integers(60, 4 * 3600), st.floats(0.01, 1.0))
def test_gong_offsets_in_documented_milliseconds_stay_milliseconds(
    duration: int, last_fraction: float
) -> None:
    last_end_ms = duration * last_fraction * 1000
    assert offset_unit([0.0, last_end_ms], float(duration)) == MILLISECONDS


@given(st.integers(60, 4 * 3600), st.floats(0.0, 1.0))
def test_gong_offsets_re_exported_in_seconds_are_recognised(
    duration: int, last_fraction: float
) -> None:
    assert offset_unit([duration * last_fraction], float(duration)) == SECONDS
    assert offset_unit([duration * last_fraction], None) == MILLISECONDS  # no duration: docs


@settings(max_examples=25, deadline=None)
@given(st.lists(sentences, min_size=1, max_size=6, unique=True))
def test_email_thread_reads_each_message_once_however_much_is_quoted(texts: list[str]) -> None:
    start = datetime(2026, 10, 1, 9, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        history: list[str] = []
        ids: list[str] = []
        for index, text in enumerate(texts):
            message = EmailMessage()
            sender = SPEAKERS[index % 2]
            domain = "northwind.com" if index % 2 == 0 else "brightmetrics.io"
            message["From"] = f"{sender} <{sender.split()[0].lower()}@{domain}>"
            message["To"] = "team@northwind.com"
            message["Subject"] = ("Re: " if index else "") + "Plan"
            message["Date"] = format_datetime(start + timedelta(hours=index))
            message["Message-ID"] = f"<m{index}@example.test>"
            if ids:
                message["In-Reply-To"] = ids[-1]
                message["References"] = " ".join(ids)
            quoted = "".join(f"\n\nOn a day someone wrote:\n> {old}" for old in reversed(history))
            message.set_content(text + quoted)
            (Path(folder) / f"{index}.eml").write_bytes(bytes(message))
            history.append(text)
            ids.append(f"<m{index}@example.test>")
        (conversation,), _ = read(Path(folder), opts=options())
    assert [t.text for t in conversation.turns] == texts
