"""The API's training routes and model deletion: typed bodies and answers, like routes.py."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from engine.server.events import ChangeSignal, job_events
from engine.server.http_errors import ApiError
from engine.server.jobs import STATES, QueueClosed, QueueFull
from engine.server.schemas import ErrorAnswer, ModelList
from engine.server.service import EngineService
from engine.server.trainings import (
    DEFAULT_STEPS,
    DRAWINGS_RANGE,
    STEPS_RANGE,
    NameTaken,
    Training,
    decode_drawings,
)

_UNKNOWN: dict[int | str, dict[str, Any]] = {404: {"model": ErrorAnswer}}


class TrainingRequest(BaseModel):
    """POST /v1/trainings: finished drawings to teach a new model, its name and length."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    name: str = Field(description="the new model's name (letters, digits, space . _ -)")
    drawings: list[str] = Field(
        description=f"{DRAWINGS_RANGE[0]} to {DRAWINGS_RANGE[1]} finished drawings as base64 "
        "PNG, any size; transparency is white paper",
        json_schema_extra={"items": {"contentEncoding": "base64", "contentMediaType": "image/png"}},
    )
    source: str = Field("default", alias="from", description="the model to start from")
    steps: int = Field(
        DEFAULT_STEPS,
        ge=STEPS_RANGE[0],
        le=STEPS_RANGE[1],
        description="optimiser steps of each stage (300: about 5 minutes on a 2-core CPU)",
    )


class TrainingStatus(BaseModel):
    """A training's state; also the data of its `state` events."""

    id: str = Field(pattern="^[0-9a-f]{32}$")
    name: str
    source: str = Field(alias="from")
    drawings: int
    state: Literal[STATES]  # type: ignore[valid-type]
    stage: Literal["diffusion", "upscaler"]
    step: int = Field(description="steps done, both stages together")
    total: int = Field(description="steps in all")
    loss: float | None = Field(description="smoothed training loss of the stage running")
    images_per_s: float | None
    eta_s: float | None = Field(description="seconds left at the current speed")
    paused: bool = Field(description="waiting while generation jobs run")
    error: str | None = Field(description="one line, when failed or cancelled")
    cancel_requested: bool
    model: str | None = Field(description="the model's name in GET /v1/models, once done")
    resumable: bool = Field(description="POST /v1/trainings/{id}/resume goes on from here")


class TrainingList(BaseModel):
    """GET /v1/trainings: every remembered training, oldest first."""

    trainings: list[TrainingStatus]


def add_training_routes(app: FastAPI, service: EngineService, changes: ChangeSignal) -> None:
    """Add /v1/trainings and DELETE /v1/models/{name} to the app (when the server has a store)."""
    trainings = service.trainings
    if trainings is None:
        return

    def found(training_id: str) -> Training:
        training = trainings.get(training_id)
        if training is None:
            raise ApiError(404, f"unknown training {training_id[:40]!r}")
        return training

    # Plain `def`: decoding and checking hundreds of drawings runs on a worker thread.
    @app.post(
        "/v1/trainings",
        status_code=202,
        response_model=TrainingStatus,
        summary="Teach a new model these drawings; follow it at Location",
        responses={409: {"model": ErrorAnswer, "description": "the name is taken"}},
    )
    def submit_training(body: TrainingRequest, response: Response) -> dict[str, Any]:
        drawings = decode_drawings(body.drawings, trainings.min_drawings)
        return _queued(
            response, lambda: trainings.submit(body.name, body.source, body.steps, drawings)
        )

    @app.post(
        "/v1/trainings/{id}/resume",
        status_code=202,
        response_model=TrainingStatus,
        responses=_UNKNOWN,
        summary="Go on with a cancelled training from its checkpoint (a new training id)",
    )
    def resume_training(id: str, response: Response) -> dict[str, Any]:
        return _queued(response, lambda: trainings.resume(id) or found(id))

    @app.get("/v1/trainings", response_model=TrainingList, summary="Every remembered training")
    async def list_trainings() -> dict[str, Any]:
        return {"trainings": [training.status() for training in trainings.trainings()]}

    @app.get("/v1/trainings/{id}", response_model=TrainingStatus, responses=_UNKNOWN)
    async def training_status(id: str) -> dict[str, Any]:
        return found(id).status()

    @app.delete("/v1/trainings/{id}", response_model=TrainingStatus, responses=_UNKNOWN)
    async def cancel_training(id: str) -> dict[str, Any]:
        found(id)
        return trainings.cancel(id).status()

    @app.get(
        "/v1/trainings/{id}/events",
        summary="Server-Sent Events: state, progress, preview (base64 PNGs), final state",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}, **_UNKNOWN},
    )
    async def training_events(id: str) -> StreamingResponse:
        training = found(id)
        return StreamingResponse(
            job_events(trainings, training, changes), headers={"Content-Type": "text/event-stream"}
        )

    @app.delete(
        "/v1/models/{name}",
        response_model=ModelList,
        responses={404: {"model": ErrorAnswer}},
        summary="Delete a trained model (not the shipped one, not the selected one)",
    )
    def delete_model(name: str) -> dict[str, Any]:
        if name not in {entry["name"] for entry in service.models()["models"]}:
            raise ApiError(404, f"unknown model {name[:60]!r}")
        return service.delete_model(name)

    def _queued(response: Response, queue: Any) -> dict[str, Any]:
        try:
            training = queue()
        except NameTaken as error:
            raise ApiError(409, str(error)) from None
        except QueueFull as error:
            raise ApiError(429, str(error), {"Retry-After": "60"}) from None
        except QueueClosed as error:
            raise ApiError(503, str(error)) from None
        response.headers["Location"] = f"/v1/trainings/{training.id}"
        return training.status()
