"""Typed answers of the API; the OpenAPI schema at /openapi.json is generated from these."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from engine.paths import APP_NAME
from engine.server.work import STATES

# Clients check this name in /v1/health before sending work: a program that merely answers JSON on
# the port is not a Sketch Variants engine.
SERVICE = APP_NAME


class ErrorAnswer(BaseModel):
    """Every 4xx and 5xx answer: one line saying what went wrong and what to do."""

    error: str


class Health(BaseModel):
    """GET /v1/health: who answers (service, version), the model, device and queue."""

    service: Literal["sketch-variants"] = Field(description="always sketch-variants")
    status: Literal["ok"]
    version: str = Field(description="the engine's version")
    model: dict[str, Any] = Field(description="the model's own info and the selected name")
    device: str = Field(description="where the model runs, e.g. CPU or GPU:0")
    queue_length: int = Field(description="jobs waiting, not counting the running one")
    running: str | None = Field(description="id of the running job, if any")


class ModelEntry(BaseModel):
    """A model the engine can load."""

    name: str
    path: str
    shipped: bool = Field(False, description="the model that ships with the engine (not deletable)")
    provenance: dict[str, Any] | None = Field(
        None, description="how it was made: steps, time, machine, drawings, fine-tuned from"
    )


class ModelList(BaseModel):
    """GET /v1/models: the selectable models and the one in use."""

    current: str
    models: list[ModelEntry]


class JobStatus(BaseModel):
    """A job's state; also the data of its `state` events."""

    id: str = Field(pattern="^[0-9a-f]{32}$")
    state: Literal[STATES]  # type: ignore[valid-type]
    step: int = Field(description="denoising steps done")
    total: int = Field(description="denoising steps in all")
    error: str | None = Field(description="one line, when failed or cancelled")
    cancel_requested: bool


class JobList(BaseModel):
    """GET /v1/jobs: every job the server remembers, oldest first."""

    jobs: list[JobStatus]


class VariantImage(BaseModel):
    """One variant: RGBA PNG at the sketch's pixel size, aligned with it."""

    seed: int
    png: str = Field(description="base64 PNG", json_schema_extra={"contentEncoding": "base64"})


class JobResult(BaseModel):
    """GET /v1/jobs/{id}/result: the variants, in seed order."""

    id: str
    variants: list[VariantImage]


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
