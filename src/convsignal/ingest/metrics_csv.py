"""Quantitative measures from a CSV or JSON file, one row per account and date.

JSON: a list of objects (or `{"metrics": [...]}`) with the same keys as the CSV columns;
numbers may be JSON numbers, a missing key or `null` means "not measured".

Required columns: `account_id`, `as_of`. Optional account attributes: `account_name`,
`segment`, and text attributes that per-segment scoring profiles can match on: `plan`,
`industry`, `region`, `tier`, `csm`, or any column named `attr_<name>`. `renewal_date`
becomes `days_to_renewal` relative to `as_of`. Every other column
is a numeric measure; a blank cell means "not measured" and is skipped, never read as 0.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from convsignal.errors import IngestError
from convsignal.ingest.text_io import read_text

ATTRIBUTE_COLUMNS = {"account_id", "as_of", "account_name", "segment", "renewal_date"}
TEXT_ATTRIBUTES = {"plan", "industry", "region", "tier", "csm"}
ATTRIBUTE_PREFIX = "attr_"


@dataclass(frozen=True, slots=True)
class MetricsRow:
    account_id: str
    as_of: datetime
    measures: dict[str, float]
    account_name: str | None = None
    segment: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class MetricsFile:
    rows: list[MetricsRow] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)


def _parse_date(value: str) -> datetime:
    text = value.strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text) if "T" in text else None
    if parsed is None:
        day = date.fromisoformat(text)
        parsed = datetime(day.year, day.month, day.day)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def read_metrics_file(path: Path) -> MetricsFile:
    """CSV or JSON by the file's suffix."""
    if path.suffix.lower() == ".json":
        return read_metrics_json(path)
    return read_metrics_csv(path)


def read_metrics_json(path: Path) -> MetricsFile:
    """Good records are returned; each bad one becomes an error naming its JSON path."""
    result = MetricsFile()
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        result.errors.append(
            IngestError(f"not valid JSON ({exc.msg})", path=str(path), record=f"line {exc.lineno}")
        )
        return result
    records = data.get("metrics") if isinstance(data, dict) else data
    if not isinstance(records, list):
        result.errors.append(
            IngestError('expected a list of records or {"metrics": [...]}', path=str(path))
        )
        return result
    for index, record in enumerate(records):
        where = f"$.metrics[{index}]" if isinstance(data, dict) else f"$[{index}]"
        if not isinstance(record, dict):
            result.errors.append(
                IngestError("record is not an object", path=str(path), record=where)
            )
            continue
        row = {str(k): "" if v is None else str(v) for k, v in record.items()}
        try:
            result.rows.append(_row(row, path, where))
        except IngestError as exc:
            result.errors.append(exc)
    return result


def read_metrics_csv(path: Path) -> MetricsFile:
    """Good rows are returned, each bad row becomes an error naming file, line and column."""
    result = MetricsFile()
    text = read_text(path)
    reader = csv.DictReader(text.splitlines())
    columns = set(reader.fieldnames or [])
    missing = {"account_id", "as_of"} - columns
    if missing:
        result.errors.append(
            IngestError(f"missing column(s): {', '.join(sorted(missing))}", path=str(path))
        )
        return result
    for line, row in _rows(reader):
        try:
            result.rows.append(_row(row, path, line))
        except IngestError as exc:
            result.errors.append(exc)
    return result


def _rows(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, str]]]:
    for index, row in enumerate(reader, start=2):
        if any((value or "").strip() for value in row.values()):
            yield index, row


def _row(row: dict[str, str], path: Path, line: int | str) -> MetricsRow:
    record = f"line {line}" if isinstance(line, int) else line
    account_id = (row.get("account_id") or "").strip()
    if not account_id:
        raise IngestError("empty account_id", path=str(path), record=record)
    try:
        as_of = _parse_date(row["as_of"])
    except (ValueError, TypeError, AttributeError):
        raise IngestError("as_of is not an ISO date", path=str(path), record=record) from None
    measures: dict[str, float] = {}
    attributes: dict[str, str] = {}
    for column, value in row.items():
        if column is None or column in ATTRIBUTE_COLUMNS or not (value or "").strip():
            continue
        if column in TEXT_ATTRIBUTES or column.startswith(ATTRIBUTE_PREFIX):
            attributes[column.removeprefix(ATTRIBUTE_PREFIX)] = value.strip()
            continue
        try:
            measures[column.strip()] = float(value)
        except ValueError:
            raise IngestError(
                f"column {column!r} is not a number", path=str(path), record=record
            ) from None
    renewal = (row.get("renewal_date") or "").strip()
    if renewal:
        try:
            measures["days_to_renewal"] = float((_parse_date(renewal) - as_of).days)
        except ValueError:
            raise IngestError(
                "renewal_date is not an ISO date", path=str(path), record=record
            ) from None
    return MetricsRow(
        account_id=account_id,
        as_of=as_of,
        measures=measures,
        account_name=(row.get("account_name") or "").strip() or None,
        segment=(row.get("segment") or "").strip() or None,
        attributes=attributes,
    )
