"""The FastAPI app a CS platform integrates with: `create_app(settings)`.

Routes live under `/v1` (one router per resource in `api/routes/`), each guarded by an API
key scope; `/healthz` and `/readyz` are open; `/metrics` (Prometheus) needs a read key;
`/docs` and `/openapi.json` describe everything, including every error response
(problem+json). One engine per app with a sized pool; the background workers (jobs queue,
webhook deliveries) run inside the lifespan and stop gracefully with it.

`convsignal serve` runs it with uvicorn; with `--workers` > 1 uvicorn imports
`convsignal.api.app:app_from_environment` in each worker process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Response
from sqlalchemy import Engine, text

from convsignal import __version__
from convsignal.api import background
from convsignal.api.auth import KeyCache, Scope, require_scope
from convsignal.api.deps import EngineDep
from convsignal.api.observability import ObservabilityMiddleware, metrics_payload
from convsignal.api.problems import ProblemDetail, install_handlers, problem_responses
from convsignal.api.routes import accounts, events, jobs, keys, metrics, overrides, scores, webhooks
from convsignal.api.routes import review as review_routes
from convsignal.config import Settings
from convsignal.runtime import freeze_long_lived
from convsignal.score.profile import load_profile
from convsignal.store.engine import current_revision, head_revision, make_engine

DESCRIPTION = """\
Customer-health scores from conversations and product metrics, for CS platforms.

Authenticate with `Authorization: Bearer csk_…` (create a key with
`convsignal apikey create --scope read|write|admin`). Scopes nest: read < write < admin.
Errors are `application/problem+json` bodies naming the field at fault.
"""


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    workers: bool = True,
) -> FastAPI:
    """The app. `engine`: share one (tests); else one is made from settings and disposed at
    shutdown. `workers=False` runs no background workers (tests of the routes alone).
    With `settings.freeze_heap` (the default; the test suite turns it off) the heap alive
    once the app is up is hidden from the garbage collector (see `convsignal.runtime`)."""
    owns_engine = engine is None
    if engine is None:
        engine = make_engine(
            settings.database_url,
            pool_size=settings.api_pool_size,
            max_overflow=settings.api_max_overflow,
            pool_pre_ping=settings.api_pool_pre_ping,
        )
    profile = load_profile(settings.profile_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with background.run_workers(app) if workers else nullcontext():
                if settings.freeze_heap:
                    freeze_long_lived()
                yield
        finally:
            if owns_engine:
                engine.dispose()

    app = FastAPI(
        title="convsignal scorer API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=problem_responses(422),
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    app.state.profile = profile
    app.state.key_cache = KeyCache(settings.api_key_cache_seconds)
    install_handlers(app)
    app.add_middleware(ObservabilityMiddleware, max_body_bytes=settings.api_max_body_bytes)
    _declare_problem_schema(app)

    # Each router straight under the app (not one /v1 router holding them): every level of
    # nesting is one more route match per request.
    errors = problem_responses(401, 403, 413, 503)
    for module in (accounts, scores, events, metrics, overrides, jobs, webhooks, keys):
        app.include_router(module.router, prefix="/v1", responses=errors)
    app.include_router(review_routes.router, prefix="/v1", responses=errors)  # issue 8
    app.include_router(_operations_router())
    app.include_router(review_routes.page_router)  # GET /review: the RevOps review page
    return app


def app_from_environment() -> FastAPI:
    """The factory uvicorn calls in each worker process (`--workers` > 1)."""
    return create_app(Settings())


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: the database answers and its schema is at the newest migration",
        responses={503: {"description": "not ready", "model": ProblemDetail}},
    )
    def readyz(engine: EngineDep, response: Response) -> dict[str, str | None]:
        head = head_revision()
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            current = current_revision(engine)
        except Exception:
            response.status_code = 503
            return {"status": "database unreachable", "revision": None, "head": head}
        if current != head:
            response.status_code = 503
            return {"status": "migrations pending", "revision": current, "head": head}
        return {"status": "ready", "revision": current, "head": head}

    @router.get(
        "/metrics",
        summary="Prometheus metrics (needs a read key)",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}, **problem_responses(401, 403)},
    )
    def prometheus(
        _key: Annotated[object, Depends(require_scope(Scope.READ))],
    ) -> Response:
        payload, content_type = metrics_payload()
        return Response(payload, media_type=content_type)

    return router


def _declare_problem_schema(app: FastAPI) -> None:
    """Put ProblemDetail under components/schemas so `problem_responses` can $ref it."""
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        defs = ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in defs.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault("ProblemDetail", defs)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
