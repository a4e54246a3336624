"""The API's training routes and model deletion: typed bodies and answers, like routes.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Response
from pydantic import BaseModel, ConfigDict, Field

from engine.models_store import ModelStore
from engine.server.config import ServerConfig
from engine.server.drawings import check_count, checked_drawings
from engine.server.events import ChangeSignal
from engine.server.http_errors import ApiError
from engine.server.schemas import ErrorAnswer, ModelList, TrainingList, TrainingStatus
from engine.server.service import EngineService
from engine.server.trainings import (
    DEFAULT_STEPS,
    check_training,
    resume_training,
    submit_training,
)
from engine.server.uploads import UnknownUpload, Uploaded, Uploads
from engine.server.work_routes import (
    UNKNOWN,
    Family,
    add_work_routes,
    found,
    queued,
    refusals,
    submission,
)

# The schema states the default limits; a server with others checks its own at submit.
_LIMITS = ServerConfig()
# A 429 asks for a retry in a minute: a training waits for whole trainings.
TRAININGS = Family(
    "/v1/trainings",
    TrainingStatus,
    TrainingList,
    60,
    "state, progress, preview (base64 PNGs), final state",
)


class DrawingsBatch(BaseModel):
    """POST /v1/uploads/{id}/drawings: more drawings for an upload, as base64 PNG."""

    model_config = ConfigDict(extra="forbid", strict=True)

    drawings: list[str] = Field(
        description="finished drawings as base64 PNG, as many as fit in a request",
        json_schema_extra={"items": {"contentEncoding": "base64", "contentMediaType": "image/png"}},
    )


class UploadStatus(BaseModel):
    """An upload: its id (for POST /v1/trainings's `upload`) and the drawings it holds."""

    id: str = Field(pattern="^[0-9a-f]{32}$")
    drawings: int


class TrainingRequest(BaseModel):
    """POST /v1/trainings: finished drawings to teach a new model, its name and length."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    name: str = Field(description="the new model's name (letters, digits, space . _ -)")
    drawings: list[str] = Field(
        default_factory=list,
        description=f"{_LIMITS.drawings[0]} to {_LIMITS.drawings[1]} finished drawings as base64 "
        "PNG, any size; transparency is white paper (or none, with `upload`)",
        json_schema_extra={"items": {"contentEncoding": "base64", "contentMediaType": "image/png"}},
    )
    upload: str | None = Field(
        None, description="instead of drawings: an upload's id (POST /v1/uploads), filled before"
    )
    source: str = Field("default", alias="from", description="the model to start from")
    steps: int = Field(
        DEFAULT_STEPS,
        ge=_LIMITS.training_steps[0],
        le=_LIMITS.training_steps[1],
        description="optimiser steps of each stage (300: about 3 minutes on an idle 2-core CPU)",
    )


def add_training_routes(app: FastAPI, service: EngineService, changes: ChangeSignal) -> None:
    """Add /v1/trainings and DELETE /v1/models/{name} to the app (when the server has a store)."""
    trainings, store, config = service.trainings, service.store, service.config
    if trainings is None or store is None:
        return
    add_work_routes(app, trainings, TRAININGS, changes)
    uploads = Uploads(store, config.drawings[1])
    add_upload_routes(app, uploads, store)

    @submission(
        app,
        TRAININGS,
        "",
        "Teach a new model these drawings; follow it at Location",
        {409: {"model": ErrorAnswer, "description": "the name is taken"}},
    )
    async def submit_training_route(body: TrainingRequest, response: Response) -> dict[str, Any]:
        name, source, steps, steps_range = body.name, body.source, body.steps, config.training_steps
        uploaded = None
        if body.upload is not None:
            if body.drawings:
                raise ApiError(400, "send drawings or an upload, not both")
            with unknown_upload():
                uploaded = Uploaded(body.upload, uploads.count(body.upload))
            check_count(uploaded.count, config.drawings)
        count = len(body.drawings) if uploaded is None else uploaded.count
        # What reads no drawing first, on the event loop: a full queue, a taken name or an
        # unknown `from` is answered at once, however many drawings wait to be decoded.
        with refusals(TRAININGS):
            check_training(trainings, store, name, source, steps, count, steps_range)
        # Then on a worker thread: headers, disk, and decoding within the process's budget.
        drawings: list[bytes] | Uploaded
        if uploaded is None:
            drawings = await anyio.to_thread.run_sync(
                checked_drawings, body.drawings, config.drawings, store
            )
        else:
            drawings = uploaded
        return await anyio.to_thread.run_sync(
            queued,
            response,
            TRAININGS,
            lambda: submit_training(trainings, store, name, source, steps, drawings, steps_range),
        )

    @submission(
        app,
        TRAININGS,
        "/{id}/resume",
        "Go on with a cancelled training from its checkpoint (a new training id)",
        UNKNOWN,
    )
    def resume_training_route(id: str, response: Response) -> dict[str, Any]:
        return queued(
            response,
            TRAININGS,
            lambda: resume_training(trainings, store, id) or found(trainings, TRAININGS, id),
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

    @app.delete(
        "/v1/trainings/{id}/files",
        response_model=TrainingList,
        responses={**UNKNOWN, 409: {"model": ErrorAnswer, "description": "not finished"}},
        summary="Delete a cancelled or failed training's drawings and checkpoint, and forget it",
    )
    def discard_training(id: str) -> dict[str, Any]:
        with refusals(TRAININGS):
            trainings.forget(id) or found(trainings, TRAININGS, id)
        return {"trainings": [training.status() for training in trainings.items()]}


def add_upload_routes(app: FastAPI, uploads: Uploads, store: ModelStore) -> None:
    """Add /v1/uploads: drawings sent in batches, each written to disk, for a training to take."""

    @app.post(
        "/v1/uploads",
        status_code=201,
        response_model=UploadStatus,
        summary="Start an upload: drawings sent in batches, then trained on with its id",
    )
    def create_upload(response: Response) -> dict[str, Any]:
        upload_id = uploads.create()
        response.headers["Location"] = f"/v1/uploads/{upload_id}"
        return {"id": upload_id, "drawings": 0}

    @app.post(
        "/v1/uploads/{id}/drawings",
        response_model=UploadStatus,
        responses=UNKNOWN,
        summary="Add a batch of drawings to an upload (each checked as a training's, then kept on "
        "disk)",
    )
    async def add_to_upload(id: str, body: DrawingsBatch) -> dict[str, Any]:
        with unknown_upload():
            room = uploads.room(id)
        pngs = await anyio.to_thread.run_sync(checked_drawings, body.drawings, (1, room), store)
        with unknown_upload():
            count = await anyio.to_thread.run_sync(uploads.add, id, pngs)
        return {"id": id, "drawings": count}


@contextmanager
def unknown_upload() -> Iterator[None]:
    """An unknown upload inside the block is answered 404."""
    try:
        yield
    except UnknownUpload as error:
        raise ApiError(404, str(error)) from None
