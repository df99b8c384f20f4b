"""Anthropic Message Batches and OpenAI Batch (with its Files) for the fake LLM server.

A batch stays in progress for `polls` retrievals, then ends: every item is answered at that
moment through the server's normal answer path, unless its custom_id was told to end
otherwise (errored, expired, canceled). A cancel request ends the batch at the next retrieval
with every item canceled.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from convsignal.testing.wire import Api, new_id

BatchOutcome = Literal["succeeded", "errored", "expired", "canceled"]
ItemResult = tuple[BatchOutcome, Mapping[str, Any] | None]
ItemRunner = Callable[[Api, str, Mapping[str, Any]], ItemResult]
"""(api, custom_id, params) → (outcome, a message/completion body or an error body)."""

BATCH_WINDOW_S = 24 * 3600


class BatchRequestError(ValueError):
    """The create request itself is wrong; the server answers 400 with this message."""


@dataclass
class _Batch:
    id: str
    api: Api
    items: list[tuple[str, Mapping[str, Any]]]
    polls_left: int
    created_at: float = field(default_factory=time.time)
    cancel_requested_at: float | None = None
    ended_at: float | None = None
    results: list[tuple[str, BatchOutcome, Mapping[str, Any] | None]] = field(default_factory=list)
    input_file_id: str = ""
    endpoint: str = ""
    metadata: Mapping[str, Any] | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None

    def count(self, outcome: BatchOutcome) -> int:
        return sum(1 for _, result, _ in self.results if result == outcome)


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def as_object(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


class BatchStore:
    def __init__(self, run_item: ItemRunner, *, polls: int = 1) -> None:
        self._run_item = run_item
        self.polls = polls
        self._lock = threading.RLock()
        self._batches: dict[str, _Batch] = {}
        self._files: dict[str, StoredFile] = {}

    # ---- files (OpenAI) ---------------------------------------------------------------------

    def add_file(self, filename: str, purpose: str, content: bytes) -> StoredFile:
        stored = StoredFile(new_id("file-"), filename, purpose, content, int(time.time()))
        with self._lock:
            self._files[stored.id] = stored
        return stored

    def file(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    # ---- Anthropic Message Batches -----------------------------------------------------------

    def create_anthropic(self, body: Mapping[str, Any]) -> dict[str, Any]:
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            raise BatchRequestError("requests: a non-empty list is required")
        items = []
        for request in requests:
            if not isinstance(request, Mapping) or not isinstance(request.get("params"), Mapping):
                raise BatchRequestError("each request needs custom_id and params")
            items.append((str(request.get("custom_id")), request["params"]))
        _require_unique([custom_id for custom_id, _ in items])
        batch = _Batch(new_id("msgbatch_"), "anthropic", items, self.polls)
        with self._lock:
            self._batches[batch.id] = batch
            return self._anthropic_object(batch, results_url=None)

    def retrieve_anthropic(self, batch_id: str, results_url: str) -> dict[str, Any] | None:
        with self._lock:
            batch = self._poll(batch_id, "anthropic")
            return None if batch is None else self._anthropic_object(batch, results_url)

    def cancel_anthropic(self, batch_id: str) -> dict[str, Any] | None:
        with self._lock:
            batch = self._cancel(batch_id, "anthropic")
            return None if batch is None else self._anthropic_object(batch, results_url=None)

    def anthropic_results(self, batch_id: str) -> bytes | None:
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None or batch.api != "anthropic" or batch.ended_at is None:
                return None
            lines = []
            for custom_id, outcome, payload in batch.results:
                result: dict[str, Any] = {"type": outcome}
                if outcome == "succeeded":
                    result["message"] = payload
                elif outcome == "errored":
                    result["error"] = payload
                lines.append(json.dumps({"custom_id": custom_id, "result": result}))
            return ("\n".join(lines) + "\n").encode()

    def _anthropic_object(self, batch: _Batch, results_url: str | None) -> dict[str, Any]:
        ended = batch.ended_at is not None
        if ended:
            status = "ended"
        elif batch.cancel_requested_at is not None:
            status = "canceling"
        else:
            status = "in_progress"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": {
                "processing": 0 if ended else len(batch.items),
                "succeeded": batch.count("succeeded"),
                "errored": batch.count("errored"),
                "canceled": batch.count("canceled"),
                "expired": batch.count("expired"),
            },
            "created_at": _rfc3339(batch.created_at),
            "expires_at": _rfc3339(batch.created_at + BATCH_WINDOW_S),
            "ended_at": _rfc3339(batch.ended_at),
            "cancel_initiated_at": _rfc3339(batch.cancel_requested_at),
            "archived_at": None,
            "results_url": results_url if ended else None,
        }

    # ---- OpenAI Batch ------------------------------------------------------------------------

    def create_openai(self, body: Mapping[str, Any]) -> dict[str, Any]:
        input_file = self.file(str(body.get("input_file_id", "")))
        if input_file is None:
            raise BatchRequestError(f"no such input file: {body.get('input_file_id')!r}")
        endpoint = str(body.get("endpoint", ""))
        items = []
        for number, line in enumerate(input_file.content.decode().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                request = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BatchRequestError(f"line {number} is not JSON ({exc.msg})") from None
            if request.get("url") != endpoint or not isinstance(request.get("body"), Mapping):
                raise BatchRequestError(f"line {number}: url must be {endpoint} with a body")
            items.append((str(request.get("custom_id")), request["body"]))
        _require_unique([custom_id for custom_id, _ in items])
        batch = _Batch(
            new_id("batch_"),
            "openai",
            items,
            self.polls,
            input_file_id=input_file.id,
            endpoint=endpoint,
            metadata=body.get("metadata"),
        )
        with self._lock:
            self._batches[batch.id] = batch
            return self._openai_object(batch, status="validating")

    def retrieve_openai(self, batch_id: str) -> dict[str, Any] | None:
        with self._lock:
            batch = self._poll(batch_id, "openai")
            return None if batch is None else self._openai_object(batch)

    def cancel_openai(self, batch_id: str) -> dict[str, Any] | None:
        with self._lock:
            batch = self._cancel(batch_id, "openai")
            return None if batch is None else self._openai_object(batch)

    def _openai_object(self, batch: _Batch, status: str | None = None) -> dict[str, Any]:
        ended = batch.ended_at is not None
        if status is None:
            if not ended:
                status = "in_progress" if batch.cancel_requested_at is None else "cancelling"
            elif batch.cancel_requested_at is not None:
                status = "cancelled"
            elif batch.results and batch.count("expired") == len(batch.results):
                status = "expired"
            else:
                status = "completed"
        failed = len(batch.results) - batch.count("succeeded")
        ended_at = None if batch.ended_at is None else int(batch.ended_at)
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": batch.endpoint,
            "errors": None,
            "input_file_id": batch.input_file_id,
            "completion_window": "24h",
            "status": status,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "created_at": int(batch.created_at),
            "in_progress_at": int(batch.created_at),
            "expires_at": int(batch.created_at + BATCH_WINDOW_S),
            "finalizing_at": ended_at,
            "completed_at": ended_at if status == "completed" else None,
            "failed_at": None,
            "expired_at": ended_at if status == "expired" else None,
            "cancelling_at": None
            if batch.cancel_requested_at is None
            else int(batch.cancel_requested_at),
            "cancelled_at": ended_at if status == "cancelled" else None,
            "request_counts": {
                "total": len(batch.items),
                "completed": batch.count("succeeded"),
                "failed": failed,
            },
            "metadata": batch.metadata,
        }

    def _write_openai_files(self, batch: _Batch) -> None:
        output, errors = [], []
        for custom_id, outcome, payload in batch.results:
            line: dict[str, Any] = {"id": new_id("batch_req_"), "custom_id": custom_id}
            if outcome == "succeeded":
                line |= {"response": _openai_response(200, payload), "error": None}
                output.append(json.dumps(line))
            elif outcome == "errored":
                status = int((payload or {}).get("status_code", 500))
                body = {k: v for k, v in (payload or {}).items() if k != "status_code"}
                line |= {"response": _openai_response(status, body), "error": None}
                errors.append(json.dumps(line))
            else:
                code = "batch_expired" if outcome == "expired" else "batch_cancelled"
                message = (
                    "This request could not be executed before the completion window expired."
                    if outcome == "expired"
                    else "This request was not executed because the batch was cancelled."
                )
                line |= {"response": None, "error": {"code": code, "message": message}}
                errors.append(json.dumps(line))
        if output:
            name = f"{batch.id}_output.jsonl"
            data = ("\n".join(output) + "\n").encode()
            batch.output_file_id = self.add_file(name, "batch_output", data).id
        if errors:
            name = f"{batch.id}_error.jsonl"
            data = ("\n".join(errors) + "\n").encode()
            batch.error_file_id = self.add_file(name, "batch_output", data).id

    # ---- shared ------------------------------------------------------------------------------

    def _poll(self, batch_id: str, api: Api) -> _Batch | None:
        batch = self._batches.get(batch_id)
        if batch is None or batch.api != api:
            return None
        if batch.ended_at is None:
            if batch.polls_left > 0 and batch.cancel_requested_at is None:
                batch.polls_left -= 1
            else:
                self._finish(batch)
        return batch

    def _cancel(self, batch_id: str, api: Api) -> _Batch | None:
        batch = self._batches.get(batch_id)
        if batch is None or batch.api != api:
            return None
        if batch.ended_at is None and batch.cancel_requested_at is None:
            batch.cancel_requested_at = time.time()
        return batch

    def _finish(self, batch: _Batch) -> None:
        if batch.cancel_requested_at is not None:
            batch.results = [(custom_id, "canceled", None) for custom_id, _ in batch.items]
        else:
            batch.results = [
                (custom_id, *self._run_item(batch.api, custom_id, params))
                for custom_id, params in batch.items
            ]
        batch.ended_at = time.time()
        if batch.api == "openai":
            self._write_openai_files(batch)


def _openai_response(status: int, body: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"status_code": status, "request_id": new_id("req_"), "body": body}


def _require_unique(custom_ids: list[str]) -> None:
    seen: set[str] = set()
    for custom_id in custom_ids:
        if custom_id in seen:
            raise BatchRequestError(f"custom_id {custom_id!r} is used twice in the batch")
        seen.add(custom_id)


def _rfc3339(moment: float | None) -> str | None:
    if moment is None:
        return None
    stamp = datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")
    return stamp.replace("+00:00", "Z")
