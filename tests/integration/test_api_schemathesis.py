"""Property-based run over the app's own OpenAPI spec (schemathesis): every operation, with
valid (positive) and invalid (negative) inputs, against a seeded store on SQLite and
PostgreSQL.

Checks: no 5xx on any input (`not_a_server_error`) and every response matches the schema
the spec declares for its status, problem+json bodies included
(`response_schema_conformance`). An admin key is injected, so every route is reached past
auth. Examples per operation and mode are bounded so the run stays under 90 s per database.
Failures are collected over all operations and reported together.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.openapi import from_asgi
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import Engine

from convsignal.api.app import create_app
from convsignal.config import Settings
from tests.integration.api_helpers import make_keys, seed_accounts

EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 8}
CHECKS = [not_a_server_error, response_schema_conformance]


def test_no_server_errors_and_responses_match_the_spec(engine: Engine) -> None:
    seed_accounts(engine)
    key = make_keys(engine).admin
    config = Settings(database_url=str(engine.url), api_max_body_bytes=200_000)
    schema = from_asgi("/openapi.json", create_app(config, engine=engine, workers=False))
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = 0
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode, examples in EXAMPLES.items():

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def run(case: Any) -> None:
                response = case.call_and_validate(headers=headers, checks=CHECKS)
                statuses[response.status_code // 100] += 1

            try:
                run()
            except Unsatisfiable:  # no parameters: nothing can be made invalid
                assert mode is GenerationMode.NEGATIVE
                assert not operation.path_parameters
            except Exception as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}"[:3000])
    elapsed = time.perf_counter() - started
    assert operations >= 15, "the spec lost its operations"
    assert failures == [], "\n\n".join(failures)
    assert statuses[2] > 100, statuses  # valid requests succeeded…
    assert statuses[4] > 100, statuses  # …and invalid ones were refused
    assert elapsed < 90, f"took {elapsed:.0f} s; lower EXAMPLES"
