"""The API's routes: typed bodies and answers on FastAPI, which makes /openapi.json from them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse

from engine import __version__
from engine.server.events import ChangeSignal, job_events
from engine.server.http_errors import ApiError, install_error_answers
from engine.server.jobs import DONE, Job, QueueClosed, QueueFull
from engine.server.payload import JobRequest, ModelSelection
from engine.server.schemas import ErrorAnswer, Health, JobList, JobResult, JobStatus, ModelList
from engine.server.service import EngineService
from engine.server.training_routes import add_training_routes

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorAnswer, "description": "bad request: the message says what to fix"},
    401: {"model": ErrorAnswer, "description": "missing or wrong bearer token"},
}
_UNKNOWN_JOB: dict[int | str, dict[str, Any]] = {404: {"model": ErrorAnswer}}


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
    jobs = service.jobs

    def found(job_id: str) -> Job:
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"unknown job {job_id[:40]!r}")
        return job

    generated = app.openapi

    def openapi_with_bearer() -> dict[str, Any]:
        # The guard checks the token before any route, so FastAPI cannot see it: say it here.
        if app.openapi_schema is None:
            schema = generated()
            bearer = {"type": "http", "scheme": "bearer"}
            schema.setdefault("components", {})["securitySchemes"] = {"bearer": bearer}
            schema["security"] = [{"bearer": []}]
        return app.openapi_schema

    app.openapi = openapi_with_bearer  # type: ignore[method-assign]

    @app.get("/openapi.json", summary="This API's OpenAPI description")
    async def openapi() -> dict[str, Any]:
        return app.openapi()

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

    @app.get("/v1/jobs", response_model=JobList, summary="Every remembered job, oldest first")
    async def list_jobs() -> dict[str, Any]:
        return {"jobs": [job.status() for job in jobs.jobs()]}

    # Plain `def`: base64 and the PNG check of a large sketch run on a worker thread.
    @app.post(
        "/v1/jobs",
        status_code=202,
        response_model=JobStatus,
        summary="Queue a sketch; follow it at Location",
        responses={429: {"model": ErrorAnswer, "description": "queue full: retry later"}},
    )
    def submit(body: JobRequest, response: Response) -> dict[str, Any]:
        try:
            job = service.submit(body)
        except QueueFull as error:
            raise ApiError(429, str(error), {"Retry-After": "5"}) from None
        except QueueClosed as error:
            raise ApiError(503, str(error)) from None
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        return job.status()

    @app.get("/v1/jobs/{id}", response_model=JobStatus, responses=_UNKNOWN_JOB, summary="Job state")
    async def job_status(id: str) -> dict[str, Any]:
        return found(id).status()

    @app.delete("/v1/jobs/{id}", response_model=JobStatus, responses=_UNKNOWN_JOB, summary="Cancel")
    async def cancel(id: str) -> dict[str, Any]:
        job = jobs.cancel(id)
        if job is None:
            raise ApiError(404, f"unknown job {id[:40]!r}")
        return job.status()

    @app.get(
        "/v1/jobs/{id}/events",
        summary="Server-Sent Events: state, progress per step, final state",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}, **_UNKNOWN_JOB},
    )
    async def events(id: str) -> StreamingResponse:
        job = found(id)
        # The type set as a header: Starlette would append "; charset=utf-8" to media_type.
        return StreamingResponse(
            job_events(jobs, job, changes), headers={"Content-Type": "text/event-stream"}
        )

    @app.get(
        "/v1/jobs/{id}/result",
        response_model=JobResult,
        summary="The variants of a finished job",
        description="The `Server-Timing` header gives the job's milliseconds per stage: queue, "
        "prepare (sketch decoded), engine (generate) and encode (the variants' PNGs).",
        responses={409: {"model": ErrorAnswer, "description": "not done"}, **_UNKNOWN_JOB},
    )
    def result(id: str, response: Response) -> dict[str, Any]:  # `def`: megabytes off the loop
        job = found(id)
        if job.state != DONE:
            detail = f": {job.error}" if job.error else ""
            raise ApiError(409, f"job is {job.state}{detail}")
        response.headers["Server-Timing"] = ", ".join(
            f"{stage};dur={ms:.1f}" for stage, ms in job.timings.items()
        )
        return {"id": job.id, "variants": job.variants}

    add_training_routes(app, service, changes)
    return app
