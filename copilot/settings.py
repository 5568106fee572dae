"""The one configuration object. Built only by the API's app factory and the CLI's root command.

`.env.example` is written from it (`python -m copilot.settings > .env.example`), so the documented
knobs are always the real ones; a test keeps the file in sync.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SqliteSynchronous = Literal["full", "normal"]  # SQLite's PRAGMA synchronous modes the copilot offers


class Settings(BaseSettings):
    """Every knob of the copilot. Environment variables use the COPILOT_ prefix (see .env.example)."""

    model_config = SettingsConfigDict(env_prefix="COPILOT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(PROJECT_ROOT / "data", description="Where the index, database and models live.")
    sop_dir: Path = Field(PROJECT_ROOT / "sop", description="The SOP library and taxonomy.yaml.")
    training_dir: Path = Field(PROJECT_ROOT / "training", description="Tickets the default triage model learns from.")
    datasets_dir: Path = Field(
        PROJECT_ROOT / "evals" / "datasets",
        description="Eval sets: dev and test tickets, golden replies, safety cases.",
    )

    chroma_path: Path | None = Field(None, description="Persistent Chroma folder; default <data_dir>/chroma.")
    chroma_url: str | None = Field(None, description="A Chroma server (http://host:port); overrides chroma_path.")
    chroma_collection: str = Field("sop_passages", description="Collection holding the SOP passages.")

    database_url: str | None = Field(None, description="Any SQLAlchemy URL; default a SQLite file in data_dir.")
    sqlite_synchronous: SqliteSynchronous = Field(
        "full",
        description="When a SQLite records database syncs its log to disk. full: at every commit, so a power loss "
        "loses nothing committed. normal: at checkpoints only, so a power loss or OS crash may undo the last "
        "commits (a crash of the copilot itself loses none); a commit then skips a disk sync (milliseconds), "
        "which otherwise caps how many tickets and drafts the workers together can store a second.",
    )

    embedder: Literal["local", "openai"] = Field("local", description="local: bundled MiniLM; openai: API.")
    writer: Literal["template", "openai"] = Field("template", description="Who writes drafts.")
    openai_api_key: SecretStr | None = Field(None, description="Key for OpenAI or a compatible server.")
    openai_base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible server.")
    openai_chat_model: str = Field("gpt-4o-mini", description="Chat model for the LLM writer.")
    judge_model: str | None = Field(
        None,
        description="Chat model that judges drafts in `copilot eval run` (faithfulness, relevance); off if unset.",
        examples=["gpt-4o"],
    )
    openai_embedding_model: str = Field("text-embedding-3-small", description="Embedding model for 'openai'.")
    openai_timeout_s: float = Field(20.0, gt=0, description="Seconds before a model call is abandoned.")

    triage_model_path: Path | None = Field(None, description="Triage artifact to load; default the newest.")
    auto_apply_threshold: float = Field(0.80, ge=0, le=1, description="Confidence to apply labels as-is.")
    suggest_threshold: float = Field(0.45, ge=0, le=1, description="Confidence to suggest labels to an agent.")
    min_retrieval_score: float = Field(0.30, ge=0, le=1, description="Weaker best passage: no confident draft.")
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per ticket.")
    chunk_tokens: int = Field(350, ge=50, le=2000, description="Largest chunk, in cl100k tokens.")
    impact_recent_drafts: int = Field(
        200, ge=0, le=5000, description="Recent decided drafts citing an SOP that its impact preview replays."
    )
    max_ticket_chars: int = Field(20_000, ge=100, description="Longer tickets are refused with a 4xx.")
    text_retention_days: int | None = Field(
        None,
        ge=1,
        description="Days a ticket's text is kept: `copilot purge` empties older ones (labels, decisions and audit "
        "entries stay). Unset: texts are kept until you set it; your data-protection policy sets the number.",
        examples=["90"],
    )
    max_batch_tickets: int = Field(
        1000, ge=1, description="Tickets in one POST /v1/triage/batch; more are refused with 413 naming the limit."
    )
    max_batch_chars: int = Field(
        200_000,
        ge=100,
        description="Characters of ticket text in one POST /v1/triage/batch, all tickets together; more are refused "
        "with 413 naming the limit. With max_batch_tickets it bounds the CPU time of one request.",
    )
    max_body_bytes: int = Field(
        2 * 1024 * 1024,
        ge=1024,
        description="Largest request body in bytes (a backlog upload has its own limit); a larger one is refused "
        "with 413 before it is read.",
    )
    max_upload_bytes: int = Field(
        20 * 1024 * 1024,
        ge=1024,
        description="Largest backlog file in bytes for POST /v1/triage/jobs; a larger one is refused with 413 "
        "before it is read.",
    )
    rate_limit_per_principal: int = Field(
        1200,
        ge=1,
        description="Requests a minute one API key or signed-in person may make, in bursts of as many; more are "
        "answered 429 with Retry-After. Counted in each worker process.",
    )
    rate_limit_per_address: int = Field(
        2400,
        ge=1,
        description="Requests a minute from one client address, signed in or not (health probes and static "
        "files aside); more are answered 429 with Retry-After. Counted in each worker process.",
    )
    suggestion_min_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Share of a template's edited drafts that add (or delete) the same sentence before that "
        "sentence is proposed as an edit to the template.",
    )
    suggestion_min_edits: int = Field(
        3, ge=1, description="Edited drafts a template needs before any edit to it is proposed from them."
    )
    gap_cluster_distance: float = Field(
        0.65,
        gt=0,
        le=2,
        description="Cosine distance below which the gap report joins tickets (average linkage) into one topic.",
    )

    broker_url: str | None = Field(
        None,
        description="Redis URL of the Celery broker for backlog jobs (chunks run on `copilot worker`); unset: "
        "jobs run inside the API or CLI process.",
        examples=["redis://127.0.0.1:6379/0"],
    )
    broker_visibility_timeout_s: int = Field(
        300,
        ge=5,
        description="Seconds before a chunk taken by a worker that died is handed to another; keep it above "
        "the time a chunk takes.",
    )
    job_chunk_size: int = Field(200, ge=1, le=10_000, description="Tickets in one chunk (one task) of a job.")
    job_max_retries: int = Field(3, ge=0, le=20, description="Retries of a failed chunk before its job fails.")
    job_retry_backoff_s: float = Field(
        2.0, gt=0, description="Seconds before a failed chunk's first retry; doubled at each further retry."
    )

    admin_password: SecretStr | None = Field(
        None,
        description="Password of the first `admin` account, made when the database has no user; unset: a "
        "one-time password is generated and printed once by `copilot serve` (or `copilot db upgrade`).",
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="Hours a console sign-in lasts.")
    cookie_secure: bool = Field(
        False, description="Send the session cookie over HTTPS only; set it when the console is served over TLS."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed sign-ins for one name or from one address before sign-in is refused (429)."
    )
    login_window_minutes: int = Field(15, ge=1, description="Minutes over which failed sign-ins are counted.")

    host: str = Field("127.0.0.1", description="Address the API binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Level of the copilot's own log lines; other libraries log warnings and errors only."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines on stderr: text, or json (one JSON object a line)."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Settings:
        if self.suggest_threshold > self.auto_apply_threshold:
            raise ValueError(
                f"suggest_threshold ({self.suggest_threshold}) must be <= "
                f"auto_apply_threshold ({self.auto_apply_threshold})"
            )
        return self

    @property
    def resolved_chroma_path(self) -> Path:
        return self.chroma_path or self.data_dir / "chroma"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'copilot.db'}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def taxonomy_path(self) -> Path:
        return self.sop_dir / "taxonomy.yaml"


ENV_EXAMPLE_HEADER = """\
# Every setting of the copilot, with its default. Copy to .env and change what you need.
# Environment variables with the COPILOT_ prefix override this file.
# Written by `python -m copilot.settings > .env.example`; do not edit by hand.
"""


def env_example() -> str:
    """The text of `.env.example`: each field's description, then its variable with the default.

    A field without a plain default (None, or a path inside the project that depends on where it is
    installed) is shown commented out, with an example where the field gives one.
    """
    blocks = [ENV_EXAMPLE_HEADER]
    for name, field in Settings.model_fields.items():
        variable = f"{Settings.model_config.get('env_prefix', '')}{name.upper()}"
        lines = [f"# {field.description}"]
        default = field.default
        if isinstance(default, Path) and default.is_relative_to(PROJECT_ROOT):
            lines += [
                f"# default: the project's {default.relative_to(PROJECT_ROOT).as_posix()}/ folder",
                f"# {variable}=",
            ]
        elif default is None:
            lines.append(f"# {variable}={(field.examples or [''])[0]}")
        else:
            lines.append(f"{variable}={default}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


if __name__ == "__main__":
    print(env_example(), end="")
