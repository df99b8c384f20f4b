"""JSON responses serialised by pydantic-core in one step.

A route that builds its declared response model returns `json_response(model)`: the model
was validated when it was built, so FastAPI's second validation of the returned value is
skipped (the hot read routes spend a measurable share of their time there; see
eval/bench_api.py). The route keeps `response_model=` for the OpenAPI spec.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
