"""Backlog re-tagging jobs: upload a file of tickets, follow the job, read every ticket's labels."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, Response, UploadFile
from pydantic import BaseModel, Field

from api.deps import services
from api.schemas import AUTH_ERRORS, ErrorBody
from api.security import allow
from copilot.domain.accounts import Role
from copilot.jobs import BacklogJobs, NoTickets
from copilot.jobs.backlog import BrokerUnavailable
from copilot.services import Services
from copilot.store.jobs import JobNotDone, JobNotFound, JobResult, JobStatus
from copilot.triage.tables import FORMATS, TableError

router = APIRouter(
    prefix="/v1/triage/jobs",
    tags=["jobs"],
    responses=AUTH_ERRORS,
    dependencies=[Depends(allow(Role.SERVICE, Role.ADMIN))],
)
_building = threading.Lock()


def backlog_jobs(request: Request, svc: Annotated[Services, Depends(services)]) -> BacklogJobs:
    """The app's jobs, built on first use over its services (one thread runner or broker client per app)."""
    state = request.app.state
    with _building:
        if getattr(state, "backlog_jobs", None) is None:
            state.backlog_jobs = BacklogJobs(svc)
    return state.backlog_jobs  # type: ignore[no-any-return]


Jobs = Annotated[BacklogJobs, Depends(backlog_jobs)]


class JobResults(BaseModel):
    job_id: str
    results: list[JobResult] = Field(description="Every ticket's labels, in the order of the uploaded file.")


@router.post(
    "",
    status_code=202,
    response_model=JobStatus,
    responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    summary="Re-tag a backlog as a job",
)
def submit_job(
    jobs: Jobs,
    response: Response,
    file: UploadFile = File(description="The tickets: a .jsonl (one object a line) or .csv (a header row) file."),
    text_column: str = Form("text", min_length=1, description="Column holding the ticket text."),
    id_column: str = Form("id", description="Column holding the ticket id; empty: ids are made up."),
) -> JobStatus:
    """Plan the file into chunks and queue them; the answer is the queued job (poll `GET .../{id}`). Rows that
    are not tickets are listed in `progress.skipped`; a file with no ticket at all is a 422."""
    name = Path(file.filename or "upload").name
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise HTTPException(422, f"{name}: expected a .jsonl or .csv file, got {suffix or 'no extension'}")
    with tempfile.TemporaryDirectory(prefix="copilot-job-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        try:
            job_id = jobs.create(path, text_column=text_column, id_column=id_column or None, source=name)
        except (TableError, NoTickets, UnicodeDecodeError) as exc:
            raise HTTPException(422, str(exc).replace(str(path), name)) from exc
    try:
        jobs.start(job_id)
    except BrokerUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    response.headers["Location"] = f"{router.prefix}/{job_id}"
    return jobs.status(job_id)


@router.get("/{job_id}", response_model=JobStatus, responses={404: {"model": ErrorBody}}, summary="A job's progress")
def job_status(job_id: str, jobs: Jobs) -> JobStatus:
    """queued, running, done or failed (with the reason); chunks and tickets done, rows skipped and why,
    chunks that needed more than one attempt and why."""
    try:
        return jobs.status(job_id)
    except JobNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get(
    "/{job_id}/results",
    response_model=JobResults,
    responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
    summary="A finished job's labels",
)
def job_results(job_id: str, jobs: Jobs) -> JobResults:
    """Each ticket's line in the file and its labels, in input order; 409 until the job is done."""
    try:
        return JobResults(job_id=job_id, results=list(jobs.results(job_id)))
    except JobNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except JobNotDone as exc:
        raise HTTPException(409, str(exc)) from exc
