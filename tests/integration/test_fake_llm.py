"""The fake LLM server, driven by the real anthropic / openai SDKs and instructor.

Nothing is mocked on the client side: every call goes over real HTTP to 127.0.0.1, is parsed
by the SDK, and (where instructor is used) validated into ConversationSignals.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any

import anthropic
import httpx
import instructor
import openai
import pydantic
import pytest
from instructor.core import IncompleteOutputException, InstructorRetryException

from convsignal.extract.schema import ConversationSignals
from convsignal.testing import (
    NEUTRAL_SIGNALS,
    Endpoint,
    FakeLLMServer,
    FaultKind,
    FaultRule,
    RequestInfo,
    estimate_tokens,
    signals_answer,
)
from convsignal.testing.limits import openai_duration

CLAUDE = "claude-fake-1"
GPT = "gpt-fake-1"
GOLD = signals_answer(
    "negative",
    trajectory="declining",
    risk_flags=["budget_cuts", {"type": "champion_leaving", "confidence": 0.7}],
    intents=["evaluating_alternatives"],
)
SYSTEM = "You extract customer-health signals. " * 40


def messages(key: str, text: str = "<PERSON_1>: we need to talk about the renewal.") -> Any:
    return [{"role": "user", "content": f"conversation-key: {key}\n{text}"}]


@contextmanager
def claude(server: FakeLLMServer, **options: Any) -> Iterator[anthropic.Anthropic]:
    options.setdefault("max_retries", 0)
    with anthropic.Anthropic(base_url=server.base_url, api_key="test", **options) as client:
        yield client


@contextmanager
def gpt(server: FakeLLMServer, **options: Any) -> Iterator[openai.OpenAI]:
    options.setdefault("max_retries", 0)
    with openai.OpenAI(base_url=server.base_url + "/v1", api_key="test", **options) as client:
        yield client


def ask_claude(client: anthropic.Anthropic, key: str, **kwargs: Any) -> ConversationSignals:
    return instructor.from_anthropic(client).create(
        response_model=ConversationSignals,
        model=CLAUDE,
        max_tokens=1024,
        messages=messages(key),
        **kwargs,
    )


def ask_gpt(
    client: openai.OpenAI, key: str, mode: instructor.Mode = instructor.Mode.TOOLS, **kwargs: Any
) -> ConversationSignals:
    return instructor.from_openai(client, mode=mode).create(
        response_model=ConversationSignals,
        model=GPT,
        messages=[{"role": "system", "content": SYSTEM}, *messages(key)],
        **kwargs,
    )


def parsed_as(answer: ConversationSignals, expected: Any) -> bool:
    """instructor hands back its own subclass of the response model: compare the data."""
    return isinstance(answer, ConversationSignals) and (
        answer.model_dump() == ConversationSignals.model_validate(expected).model_dump()
    )


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(answers={"c-1": GOLD}) as fake:
        yield fake
    assert fake.internal_errors == []


# ---- answers ----------------------------------------------------------------------------------


def test_anthropic_tools_answer_from_gold_labels(server: FakeLLMServer) -> None:
    with claude(server) as client:
        assert parsed_as(ask_claude(client, "c-1"), GOLD)
        assert parsed_as(ask_claude(client, "c-unknown"), NEUTRAL_SIGNALS)
    first, second = server.requests
    assert (first.method, first.path, first.endpoint) == (
        "POST",
        "/v1/messages",
        "anthropic.messages",
    )
    assert (first.model, first.key, first.status, first.fault) == (CLAUDE, "c-1", 200, None)
    assert second.key == "c-unknown"
    assert first.body is None  # bodies are not kept unless asked


@pytest.mark.parametrize(
    ("mode", "sent"),
    [(instructor.Mode.TOOLS, "tools"), (instructor.Mode.JSON_SCHEMA, "response_format")],
)
def test_openai_modes_answer_from_gold_labels(mode: instructor.Mode, sent: str) -> None:
    with FakeLLMServer(answers={"c-1": GOLD}, keep_bodies=True) as server, gpt(server) as client:
        assert parsed_as(ask_gpt(client, "c-1", mode), GOLD)
        (logged,) = server.requests
    assert logged.path == "/v1/chat/completions"
    assert sent in logged.body
    if mode is instructor.Mode.JSON_SCHEMA:
        assert logged.body["response_format"]["type"] == "json_schema"
    else:
        assert logged.body["tool_choice"]["function"]["name"] == "ConversationSignals"


def test_async_clients() -> None:
    async def both(server: FakeLLMServer) -> list[ConversationSignals]:
        async with (
            anthropic.AsyncAnthropic(base_url=server.base_url, api_key="t", max_retries=0) as ac,
            openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="t", max_retries=0) as oc,
        ):
            from_claude = await instructor.from_anthropic(ac).create(
                response_model=ConversationSignals,
                model=CLAUDE,
                max_tokens=512,
                messages=messages("c-1"),
            )
            from_gpt = await instructor.from_openai(oc, mode=instructor.Mode.JSON_SCHEMA).create(
                response_model=ConversationSignals, model=GPT, messages=messages("c-1")
            )
            return [from_claude, from_gpt]

    with FakeLLMServer(answers={"c-1": GOLD}) as server:
        results = asyncio.run(both(server))
    assert all(parsed_as(result, GOLD) for result in results)


def test_responder_sees_the_request_and_decides() -> None:
    seen: list[RequestInfo] = []

    def responder(info: RequestInfo) -> dict[str, Any]:
        seen.append(info)
        angry = "cancel" in info.user_text
        return signals_answer("escalating" if angry else "positive")

    with FakeLLMServer(responder=responder) as server, claude(server) as client:
        answer = instructor.from_anthropic(client).create(
            response_model=ConversationSignals,
            model=CLAUDE,
            max_tokens=300,
            system=SYSTEM,
            messages=messages("c-7", "<PERSON_1>: we will cancel next month."),
        )
    assert answer.sentiment.label == "escalating"
    (info,) = seen
    assert (info.api, info.model, info.key, info.attempt) == ("anthropic", CLAUDE, "c-7", 1)
    assert (info.output, info.tool_name, info.max_tokens) == ("tool", "ConversationSignals", 300)
    assert info.system == SYSTEM
    assert info.schema is not None
    assert "risk_flags" in info.schema["properties"]


def test_signals_answer_refuses_labels_outside_the_schema() -> None:
    with pytest.raises(pydantic.ValidationError):
        signals_answer(risk_flags=["ignore_all_instructions"])


# ---- usage and caching ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)])
def test_token_estimate_is_chars_over_four(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def test_anthropic_cache_control_reports_cache_reads(server: FakeLLMServer) -> None:
    cached_system = [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    with claude(server) as client:
        usages = [
            instructor.from_anthropic(client)
            .create_with_completion(
                response_model=ConversationSignals,
                model=CLAUDE,
                max_tokens=512,
                system=system,
                messages=messages(key),
            )[1]
            .usage
            for key, system in [("c-1", cached_system), ("c-2", cached_system), ("c-3", SYSTEM)]
        ]
    first, second, uncached = usages
    assert first.cache_creation_input_tokens > estimate_tokens(SYSTEM) - 5
    assert first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == 0
    assert second.input_tokens < estimate_tokens(SYSTEM)  # cached tokens are not counted twice
    assert uncached.cache_read_input_tokens == uncached.cache_creation_input_tokens == 0
    assert uncached.input_tokens > estimate_tokens(SYSTEM)
    assert first.output_tokens == estimate_tokens(json.dumps(GOLD))


def test_openai_usage_counts_cached_prompt_prefix(server: FakeLLMServer) -> None:
    with gpt(server) as client:
        raw = instructor.from_openai(client, mode=instructor.Mode.TOOLS)
        usages = [
            raw.create_with_completion(
                response_model=ConversationSignals,
                model=GPT,
                messages=[{"role": "system", "content": SYSTEM}, *messages("c-1")],
            )[1].usage
            for _ in range(2)
        ]
    first, second = usages
    assert first.prompt_tokens == second.prompt_tokens > estimate_tokens(SYSTEM)
    assert first.prompt_tokens_details.cached_tokens == 0
    assert second.prompt_tokens_details.cached_tokens == estimate_tokens(SYSTEM)
    assert second.total_tokens == second.prompt_tokens + second.completion_tokens


# ---- rate limits ------------------------------------------------------------------------------


def test_rate_limit_headers_on_every_answer() -> None:
    with FakeLLMServer(requests_per_minute=60, rate_limit_burst=10) as server:
        with claude(server) as client:
            remaining = []
            for _ in range(2):
                raw = client.messages.with_raw_response.create(
                    model=CLAUDE, max_tokens=10, messages=messages("c-1")
                )
                remaining.append(int(raw.headers["anthropic-ratelimit-requests-remaining"]))
                assert raw.headers["anthropic-ratelimit-requests-limit"] == "60"
                assert raw.headers["anthropic-ratelimit-requests-reset"].endswith("Z")
                assert int(raw.headers["anthropic-ratelimit-tokens-remaining"]) > 0
            assert remaining[1] < remaining[0] <= 9
        with gpt(server) as client:
            raw_gpt = client.chat.completions.with_raw_response.create(
                model=GPT, messages=messages("c-1")
            )
            assert raw_gpt.headers["x-ratelimit-limit-requests"] == "60"
            assert int(raw_gpt.headers["x-ratelimit-remaining-requests"]) >= 0
            assert int(raw_gpt.headers["x-ratelimit-remaining-tokens"]) > 0
            assert raw_gpt.headers["x-ratelimit-reset-requests"].endswith("s")


@pytest.mark.parametrize(("seconds", "text"), [(0.12, "120ms"), (1.5, "1.5s"), (360, "6m0s")])
def test_openai_reset_header_format(seconds: float, text: str) -> None:
    assert openai_duration(seconds) == text


def test_simulated_limit_answers_429_with_retry_after() -> None:
    with FakeLLMServer(requests_per_minute=60, rate_limit_burst=2) as server, claude(server) as c:
        for _ in range(2):
            c.messages.create(model=CLAUDE, max_tokens=10, messages=messages("c-1"))
        with pytest.raises(anthropic.RateLimitError) as caught:
            c.messages.create(model=CLAUDE, max_tokens=10, messages=messages("c-1"))
    headers = caught.value.response.headers
    assert headers["retry-after"] == "1"
    assert 0 < int(headers["retry-after-ms"]) <= 1000
    assert headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert [(r.status, r.rate_limited, r.fault) for r in server.requests][-1] == (429, True, None)


def test_sdk_retries_honour_retry_after_ms() -> None:
    rule = FaultRule(FaultKind.RATE_LIMIT, first_n=1, retry_after_s=0.05)
    with FakeLLMServer(faults=[rule]) as server, claude(server, max_retries=2) as client:
        started = time.perf_counter()
        ask_claude(client, "c-1")
        assert time.perf_counter() - started >= 0.05
    assert [r.status for r in server.requests] == [429, 200]


# ---- faults → the SDKs' own exceptions --------------------------------------------------------

TRANSPORT_FAULTS = [
    # kind, rule options, Anthropic SDK error, OpenAI SDK error, statuses logged (0: no answer)
    (
        FaultKind.RATE_LIMIT,
        {"retry_after_s": 2},
        anthropic.RateLimitError,
        openai.RateLimitError,
        (429, 429),
    ),
    (
        FaultKind.SERVER_ERROR,
        {},
        anthropic.InternalServerError,
        openai.InternalServerError,
        (500, 500),
    ),
    (FaultKind.OVERLOADED, {}, anthropic.OverloadedError, openai.InternalServerError, (529, 503)),
    (
        FaultKind.TIMEOUT,
        {"delay_ms": 3000},
        anthropic.APITimeoutError,
        openai.APITimeoutError,
        (0, 0),
    ),
    # The SDKs let json.JSONDecodeError escape for a 200 with a broken JSON body.
    (FaultKind.MALFORMED_JSON, {}, json.JSONDecodeError, json.JSONDecodeError, (200, 200)),
]


@pytest.mark.parametrize(
    ("kind", "options", "anthropic_error", "openai_error", "statuses"), TRANSPORT_FAULTS
)
def test_transport_faults_raise_the_sdk_errors(
    kind: FaultKind,
    options: dict[str, Any],
    anthropic_error: type[Exception],
    openai_error: type[Exception],
    statuses: tuple[int, int],
) -> None:
    with FakeLLMServer(faults=[FaultRule(kind, **options)]) as server:
        with claude(server, timeout=0.3) as client, pytest.raises(anthropic_error) as a_caught:
            client.messages.create(model=CLAUDE, max_tokens=10, messages=messages("c-1"))
        with gpt(server, timeout=0.3) as client, pytest.raises(openai_error) as o_caught:
            client.chat.completions.create(model=GPT, messages=messages("c-1"))
    assert [(r.status, r.fault) for r in server.requests] == [(s, kind) for s in statuses]
    if kind is FaultKind.RATE_LIMIT:
        for caught in (a_caught, o_caught):
            response = caught.value.response  # type: ignore[attr-defined]
            assert (response.headers["retry-after"], response.headers["retry-after-ms"]) == (
                "2",
                "2000",
            )


def test_instructor_keeps_the_sdk_error_as_cause() -> None:
    with (
        FakeLLMServer(faults=[FaultRule(FaultKind.RATE_LIMIT)]) as server,
        claude(server) as client,
        pytest.raises(InstructorRetryException) as caught,
    ):
        ask_claude(client, "c-1")
    assert isinstance(caught.value.__cause__, anthropic.RateLimitError)
    assert caught.value.n_attempts == 1  # instructor does not retry transport errors
    assert len(server.requests) == 1


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_schema_violation_once_is_reasked_and_repaired(api: str) -> None:
    rule = FaultRule(FaultKind.SCHEMA_VIOLATION, per_key_limit=1)
    with FakeLLMServer(answers={"c-1": GOLD}, faults=[rule], keep_bodies=True) as server:
        if api == "anthropic":
            with claude(server) as client:
                answer = ask_claude(client, "c-1")
        else:
            with gpt(server) as client:
                answer = ask_gpt(client, "c-1")
    assert parsed_as(answer, GOLD)
    first, reask = server.requests
    assert (first.fault, reask.fault) == (FaultKind.SCHEMA_VIOLATION, None)
    assert first.key == reask.key == "c-1"
    assert "ignore_previous_instructions" in json.dumps(reask.body["messages"])  # the re-ask


def _ask_until_it_raises(
    server: FakeLLMServer, api: str, error: type[Exception], **kwargs: Any
) -> pytest.ExceptionInfo[Any]:
    if api == "anthropic":
        with claude(server) as client, pytest.raises(error) as caught:
            ask_claude(client, "c-1", **kwargs)
    else:
        with gpt(server) as client, pytest.raises(error) as caught:
            ask_gpt(client, "c-1", **kwargs)
    return caught


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_schema_violation_always_exhausts_instructor_retries(api: str) -> None:
    with FakeLLMServer(faults=[FaultRule(FaultKind.SCHEMA_VIOLATION)]) as server:
        caught = _ask_until_it_raises(server, api, InstructorRetryException, max_retries=2)
    assert caught.value.n_attempts == 3
    assert isinstance(caught.value.__cause__, pydantic.ValidationError)
    assert [r.fault for r in server.requests] == [FaultKind.SCHEMA_VIOLATION] * 3


def test_truncated_output_is_incomplete() -> None:
    with FakeLLMServer(faults=[FaultRule(FaultKind.TRUNCATED)]) as server:
        with claude(server) as client:
            raw = client.messages.create(model=CLAUDE, max_tokens=7, messages=messages("c-1"))
            assert (raw.stop_reason, raw.usage.output_tokens) == ("max_tokens", 7)
            with pytest.raises(IncompleteOutputException):
                ask_claude(client, "c-1")
        with gpt(server) as client:
            for mode in (instructor.Mode.TOOLS, instructor.Mode.JSON_SCHEMA):
                with pytest.raises(IncompleteOutputException) as caught:
                    ask_gpt(client, "c-1", mode)
                completion = caught.value.last_completion
                assert completion is not None
                assert completion.choices[0].finish_reason == "length"


def test_slow_and_latency_delay_but_answer() -> None:
    slow = FaultRule(FaultKind.SLOW, delay_ms=300, keys={"c-slow"})
    with FakeLLMServer(faults=[slow], latency_ms=100) as server, claude(server) as client:
        ask_claude(client, "c-slow")
        ask_claude(client, "c-fast")
    slow_call, fast_call = server.requests
    assert slow_call.duration_ms >= 400
    assert 100 <= fast_call.duration_ms < 300
    assert (slow_call.status, slow_call.fault, fast_call.fault) == (200, FaultKind.SLOW, None)


# ---- which requests a rule hits ---------------------------------------------------------------


def test_rule_first_n_and_keys() -> None:
    rules = [
        FaultRule(FaultKind.SERVER_ERROR, keys={"c-bad"}),
        FaultRule(FaultKind.OVERLOADED, first_n=2),
    ]
    with FakeLLMServer(faults=rules) as server, claude(server) as client:
        outcomes = []
        for key in ["c-1", "c-bad", "c-2", "c-3", "c-bad"]:
            try:
                ask_claude(client, key)
                outcomes.append("ok")
            except InstructorRetryException as exc:
                outcomes.append(type(exc.__cause__).__name__)
    assert outcomes == [
        "OverloadedError",
        "InternalServerError",
        "OverloadedError",
        "ok",
        "InternalServerError",
    ]


def _failing_keys(seed: int) -> set[str]:
    rule = FaultRule(FaultKind.SERVER_ERROR, probability=0.3)
    keys = [f"c-{n}" for n in range(60)]
    with (
        FakeLLMServer(faults=[rule], seed=seed) as server,
        gpt(server) as client,
        ThreadPoolExecutor(16) as pool,  # arrival order must not matter
    ):
        list(pool.map(lambda key: _try(lambda: ask_gpt(client, key)), keys))
    return {r.key for r in server.requests if r.status == 500 and r.key is not None}


def _try(call: Any) -> None:
    with suppress(InstructorRetryException):
        call()


def test_probability_is_seeded_per_key() -> None:
    first, again, other = _failing_keys(7), _failing_keys(7), _failing_keys(8)
    assert first == again
    assert first != other
    assert 6 <= len(first) <= 30  # 30% of 60, loosely


# ---- batches ----------------------------------------------------------------------------------


def _claude_params(key: str) -> Any:
    return {
        "model": CLAUDE,
        "max_tokens": 512,
        "messages": messages(key),
        "tools": [
            {"name": "ConversationSignals", "input_schema": ConversationSignals.model_json_schema()}
        ],
        "tool_choice": {"type": "tool", "name": "ConversationSignals"},
    }


def test_anthropic_message_batch_end_to_end() -> None:
    with (
        FakeLLMServer(
            answers={"c-1": GOLD},
            batch_polls=2,
            batch_outcomes={"c-3": "errored", "c-4": "expired"},
            faults=[
                FaultRule(FaultKind.SERVER_ERROR, first_n=1, endpoints={Endpoint.ANTHROPIC_BATCHES})
            ],
        ) as server,
        claude(server) as client,
    ):
        with pytest.raises(anthropic.InternalServerError):  # polling can fail too
            client.messages.batches.create(requests=[])
        batch = client.messages.batches.create(
            requests=[
                {"custom_id": f"c-{n}", "params": _claude_params(f"c-{n}")} for n in (1, 2, 3, 4)
            ]
        )
        assert (batch.processing_status, batch.request_counts.processing) == ("in_progress", 4)
        statuses = [client.messages.batches.retrieve(batch.id).processing_status for _ in range(3)]
        assert statuses == ["in_progress", "in_progress", "ended"]
        ended = client.messages.batches.retrieve(batch.id)
        counts = ended.request_counts
        assert (counts.succeeded, counts.errored, counts.expired, counts.canceled) == (2, 1, 1, 0)
        assert ended.results_url == f"{server.base_url}/v1/messages/batches/{batch.id}/results"
        results = {
            line.custom_id: line.result for line in client.messages.batches.results(batch.id)
        }
    assert {cid: r.type for cid, r in results.items()} == {
        "c-1": "succeeded",
        "c-2": "succeeded",
        "c-3": "errored",
        "c-4": "expired",
    }
    succeeded, errored = results["c-1"], results["c-3"]
    assert isinstance(succeeded, anthropic.types.messages.MessageBatchSucceededResult)
    block = succeeded.message.content[0]
    assert isinstance(block, anthropic.types.ToolUseBlock)
    assert ConversationSignals.model_validate(block.input).model_dump(mode="json") == GOLD
    assert isinstance(errored, anthropic.types.messages.MessageBatchErroredResult)
    assert errored.error.error.type == "api_error"


def test_anthropic_batch_cancel_and_results_before_the_end() -> None:
    with FakeLLMServer(batch_polls=5) as server, claude(server) as client:
        batch = client.messages.batches.create(
            requests=[{"custom_id": f"c-{n}", "params": _claude_params(f"c-{n}")} for n in (1, 2)]
        )
        with pytest.raises(anthropic.AnthropicError, match="results_url"):
            list(client.messages.batches.results(batch.id))
        assert client.messages.batches.cancel(batch.id).processing_status == "canceling"
        ended = client.messages.batches.retrieve(batch.id)
        assert (ended.processing_status, ended.request_counts.canceled) == ("ended", 2)
        assert ended.cancel_initiated_at is not None
        assert {r.result.type for r in client.messages.batches.results(batch.id)} == {"canceled"}


def _openai_line(key: str) -> str:
    body = {
        "model": GPT,
        "messages": messages(key),
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "ConversationSignals",
                    "parameters": ConversationSignals.model_json_schema(),
                },
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "ConversationSignals"}},
    }
    return json.dumps(
        {"custom_id": key, "method": "POST", "url": "/v1/chat/completions", "body": body}
    )


def test_openai_batch_end_to_end() -> None:
    item_fault = FaultRule(
        FaultKind.SCHEMA_VIOLATION,
        keys={"c-2"},
        endpoints={Endpoint.OPENAI_BATCH_ITEMS},
    )
    with (
        FakeLLMServer(
            answers={"c-1": GOLD},
            batch_polls=1,
            batch_outcomes={"c-3": "errored", "c-4": "expired"},
            faults=[item_fault],
        ) as server,
        gpt(server) as client,
    ):
        data = "\n".join(_openai_line(f"c-{n}") for n in (1, 2, 3, 4)).encode()
        uploaded = client.files.create(file=("requests.jsonl", data), purpose="batch")
        assert (uploaded.bytes, uploaded.purpose, uploaded.filename) == (
            len(data),
            "batch",
            "requests.jsonl",
        )
        assert client.files.content(uploaded.id).content == data
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        assert batch.status == "validating"
        statuses = [client.batches.retrieve(batch.id).status for _ in range(2)]
        assert statuses == ["in_progress", "completed"]
        done = client.batches.retrieve(batch.id)
        assert done.request_counts is not None
        assert (done.request_counts.total, done.request_counts.completed) == (4, 2)
        assert done.request_counts.failed == 2
        assert done.output_file_id is not None
        assert done.error_file_id is not None
        output = client.files.content(done.output_file_id).text.splitlines()
        errors = client.files.content(done.error_file_id).text.splitlines()
    answers = {}
    for line in map(json.loads, output):
        assert line["response"]["status_code"] == 200
        call = line["response"]["body"]["choices"][0]["message"]["tool_calls"][0]
        answers[line["custom_id"]] = json.loads(call["function"]["arguments"])
    assert ConversationSignals.model_validate(answers["c-1"]).model_dump(mode="json") == GOLD
    with pytest.raises(pydantic.ValidationError):  # the item-level fault
        ConversationSignals.model_validate(answers["c-2"])
    failed = {line["custom_id"]: line for line in map(json.loads, errors)}
    assert failed["c-3"]["response"]["status_code"] == 500
    assert failed["c-4"]["response"] is None
    assert failed["c-4"]["error"]["code"] == "batch_expired"


def test_openai_batch_cancel() -> None:
    with FakeLLMServer(batch_polls=5) as server, gpt(server) as client:
        data = _openai_line("c-1").encode()
        uploaded = client.files.create(file=("in.jsonl", data), purpose="batch")
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        assert client.batches.cancel(batch.id).status == "cancelling"
        cancelled = client.batches.retrieve(batch.id)
        assert (cancelled.status, cancelled.output_file_id) == ("cancelled", None)
        assert cancelled.error_file_id is not None
        (line,) = client.files.content(cancelled.error_file_id).text.splitlines()
        assert json.loads(line)["error"]["code"] == "batch_cancelled"
        with pytest.raises(openai.NotFoundError):
            client.batches.retrieve("batch_nope")
        with pytest.raises(openai.BadRequestError):
            client.batches.create(
                input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h"
            )


# ---- concurrency and HTTP hygiene -------------------------------------------------------------


async def gather_signals(*calls: Any) -> list[ConversationSignals]:
    return list(await asyncio.gather(*calls))


def test_32_concurrent_async_requests_are_all_answered() -> None:
    keys = [f"c-{n}" for n in range(32)]
    answers = {key: signals_answer(score=n / 100) for n, key in enumerate(keys)}

    async def run(server: FakeLLMServer) -> list[ConversationSignals]:
        async with anthropic.AsyncAnthropic(
            base_url=server.base_url, api_key="t", max_retries=0
        ) as raw:
            client = instructor.from_anthropic(raw)
            return await gather_signals(
                *(
                    client.create(
                        response_model=ConversationSignals,
                        model=CLAUDE,
                        max_tokens=256,
                        messages=messages(key),
                    )
                    for key in keys
                )
            )

    with FakeLLMServer(answers=answers, latency_ms=200) as server:
        started = time.perf_counter()
        results = asyncio.run(run(server))
        elapsed = time.perf_counter() - started
    assert [r.sentiment.score for r in results] == [answers[k]["sentiment"]["score"] for k in keys]
    assert elapsed < 2.0  # one after the other would take 6.4 s
    assert len(server.requests) == 32
    assert server.internal_errors == []


def test_64_threads_share_a_pooled_client() -> None:
    keys = [f"c-{n}" for n in range(128)]
    with (
        FakeLLMServer(latency_ms=50) as server,
        gpt(server) as client,
        ThreadPoolExecutor(64) as pool,
    ):
        results = list(pool.map(lambda key: ask_gpt(client, key), keys))
    assert len(results) == 128
    assert all(r.status == 200 for r in server.requests)
    # keep-alive works: far fewer connections than requests
    assert server.connections_opened <= 64


def test_request_bodies_never_reach_stdout_or_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    secret = "<PERSON_1> says the secret-canary-4711 project is over budget"
    faults = [
        FaultRule(FaultKind.SERVER_ERROR, first_n=1),
        FaultRule(FaultKind.MALFORMED_JSON, first_n=1),
    ]
    with FakeLLMServer(faults=faults, keep_bodies=True) as server, gpt(server) as client:
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model=GPT, messages=messages("c-1", secret))
        with pytest.raises(json.JSONDecodeError):
            client.chat.completions.create(model=GPT, messages=messages("c-1", secret))
        client.chat.completions.create(model=GPT, messages=messages("c-1", secret))
    out, err = capfd.readouterr()
    assert "secret-canary" not in out + err
    assert "/v1/chat" not in out + err
    assert secret in json.dumps(server.requests[-1].body)  # kept in memory only, when asked


def test_unknown_routes_bad_bodies_and_chunked_uploads(server: FakeLLMServer) -> None:
    with httpx.Client(base_url=server.base_url) as http:
        missing = http.get("/v1/nothing/here")
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "invalid_request_error"
        broken = http.post("/v1/messages", content=b"{not json")
        assert broken.status_code == 400
        assert broken.json()["error"]["type"] == "invalid_request_error"
        payload = json.dumps({"model": GPT, "messages": messages("c-1")}).encode()
        chunked = http.post("/v1/chat/completions", content=iter([payload[:10], payload[10:]]))
        assert chunked.status_code == 200
        assert chunked.json()["choices"][0]["message"]["content"] == json.dumps(GOLD)
        assert chunked.http_version == "HTTP/1.1"


def test_stop_does_not_wait_for_hanging_requests() -> None:
    server = FakeLLMServer(faults=[FaultRule(FaultKind.TIMEOUT, delay_ms=60_000)]).start()
    with claude(server, timeout=0.2) as client, pytest.raises(anthropic.APITimeoutError):
        client.messages.create(model=CLAUDE, max_tokens=10, messages=messages("c-1"))
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 2.0
    assert [(r.status, r.fault) for r in server.requests] == [(0, FaultKind.TIMEOUT)]
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url
