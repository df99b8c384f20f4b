"""What a worker process sends back survives the pipe; each worker gets its share."""

from __future__ import annotations

import pickle

import pytest

from convsignal.errors import ConfigError, ExtractionError, IngestError, RetriesExhausted
from convsignal.extract.providers.llm import LLMConfig
from convsignal.extract.providers.sharded import ShardedExtractor, share_of
from convsignal.extract.ratelimit import Limits


def test_errors_cross_a_process_boundary_with_their_attributes() -> None:
    exhausted = RetriesExhausted(
        "transport failed", provider="anthropic/m", attempts=6, usage={"requests": 6}
    )
    back = pickle.loads(pickle.dumps(exhausted))
    assert type(back) is RetriesExhausted
    assert str(back) == str(exhausted) == "anthropic/m: transport failed after 6 attempts"
    assert (back.attempts, back.usage, back.provider, back.fatal) == (
        6,
        {"requests": 6},
        "anthropic/m",
        False,
    )

    class Unpicklable(Exception):
        def __reduce__(self) -> object:
            raise TypeError("no")

    fatal = ExtractionError("bad key", provider="openai/m", original=Unpicklable(), fatal=True)
    back_fatal = pickle.loads(pickle.dumps(fatal))
    assert (back_fatal.fatal, back_fatal.original, str(back_fatal)) == (
        True,
        None,
        "openai/m: bad key",
    )

    ingest = pickle.loads(pickle.dumps(IngestError("bad row", path="a.csv", record="3")))
    assert (ingest.path, ingest.record) == ("a.csv", "3")


def test_each_worker_gets_its_share_of_concurrency_and_limits() -> None:
    config = LLMConfig(
        provider="anthropic",
        model="m",
        api_key="k",
        concurrency=9,
        processes=2,
        limits=Limits(requests_per_minute=600, tokens_per_minute=None),
    )
    share = share_of(config, 2)
    assert (share.concurrency, share.processes) == (5, 1)
    assert share.limits.requests_per_minute == 300
    assert share.limits.tokens_per_minute is None
    assert share.limits.headroom == config.limits.headroom


def test_processes_are_checked() -> None:
    with pytest.raises(ConfigError, match="CONVSIGNAL_LLM_PROCESSES"):
        LLMConfig(provider="anthropic", model="m", api_key="k", processes=0)
    with pytest.raises(ValueError, match="processes ≥ 2"):
        ShardedExtractor(LLMConfig(provider="anthropic", model="m", api_key="k"))
