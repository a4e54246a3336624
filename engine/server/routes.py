"""The API's routes: typed bodies and answers on FastAPI, which makes /openapi.json from them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response

from engine import __version__
from engine.server.events import ChangeSignal
from engine.server.http_errors import ApiError, install_error_answers
from engine.server.jobs import Job
from engine.server.payload import JobRequest, ModelSelection
from engine.server.schemas import ErrorAnswer, Health, JobList, JobResult, JobStatus, ModelList
from engine.server.service import EngineService
from engine.server.training_routes import add_training_routes
from engine.server.work import State
from engine.server.work_routes import UNKNOWN, Family, add_work_routes, found, queued, submission

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorAnswer, "description": "bad request: the message says what to fix"},
    401: {"model": ErrorAnswer, "description": "missing or wrong bearer token"},
}
# A 429 asks for a retry in 5 s: a job waits for jobs of a second or so each.
JOBS = Family("/v1/jobs", JobStatus, JobList, 5, "state, progress per step, final state")


def create_app(service: EngineService, changes: ChangeSignal) -> FastAPI:
    """The ASGI app of the API (behind engine.server.guard.RequestGuard, which checks the token)."""
    app = FastAPI(
        title="Sketch Variants engine",
        version=__version__,
        description="Variants of a sketch. Every request needs `Authorization: Bearer <token>`.",
        openapi_url=None,  # served by the route below, behind the token like everything else
        docs_url=None,
        redoc_url=None,
        responses=_ERRORS,
    )
    install_error_answers(app)
    _add_openapi_route(app)
    _add_engine_routes(app, service)
    _add_job_routes(app, service)
    add_work_routes(app, service.jobs, JOBS, changes)
    add_training_routes(app, service, changes)
    return app


def _add_openapi_route(app: FastAPI) -> None:
    generated = app.openapi

    def openapi_with_bearer() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generated()  # FastAPI keeps it as app.openapi_schema
        # The guard checks the token before any route, so FastAPI cannot see it: say it here.
        bearer = {"type": "http", "scheme": "bearer"}
        schema.setdefault("components", {})["securitySchemes"] = {"bearer": bearer}
        schema["security"] = [{"bearer": []}]
        return schema

    app.openapi = openapi_with_bearer  # type: ignore[method-assign]

    @app.get("/openapi.json", summary="This API's OpenAPI description")
    async def openapi() -> dict[str, Any]:
        return app.openapi()


def _add_engine_routes(app: FastAPI, service: EngineService) -> None:
    @app.get("/v1/health", response_model=Health, summary="Service, version, model, device, queue")
    async def health() -> dict[str, Any]:
        return service.health()

    @app.get("/v1/models", response_model=ModelList, summary="Models that can be selected")
    def models() -> dict[str, Any]:
        return service.models()

    # Plain `def`: a switch waits for the running job and loads a model, on a worker thread.
    @app.post("/v1/models/select", response_model=Health, summary="Switch model after this job")
    def select_model(selection: ModelSelection) -> dict[str, Any]:
        return service.select_model(selection.name)


def _add_job_routes(app: FastAPI, service: EngineService) -> None:
    jobs = service.jobs

    # Plain `def`: base64 and the PNG check of a large sketch run on a worker thread.
    @submission(
        app,
        JOBS,
        "",
        "Queue a sketch; follow it at Location",
        {429: {"model": ErrorAnswer, "description": "queue full: retry later"}},
    )
    def submit(body: JobRequest, response: Response) -> dict[str, Any]:
        return queued(response, JOBS, lambda: service.submit(body))

    @app.get(
        "/v1/jobs/{id}/result",
        response_model=JobResult,
        summary="The variants of a finished job",
        description="The `Server-Timing` header gives the job's milliseconds per stage: queue, "
        "prepare (sketch decoded), engine (generate) and encode (the variants' PNGs).",
        responses={409: {"model": ErrorAnswer, "description": "not done"}, **UNKNOWN},
    )
    def result(id: str, response: Response) -> dict[str, Any]:  # `def`: megabytes off the loop
        job: Job = found(jobs, JOBS, id)
        if job.state != State.DONE:
            detail = f": {job.error}" if job.error else ""
            raise ApiError(409, f"job is {job.state.value}{detail}")
        response.headers["Server-Timing"] = ", ".join(
            f"{stage};dur={ms:.1f}" for stage, ms in job.timings.items()
        )
        return {"id": job.id, "variants": job.variants}
