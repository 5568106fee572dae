"""Settings turned, once, into the dependencies the pipeline stages take."""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url

from copilot.domain.accounts import Actor, Role
from copilot.domain.sop import SopDocument
from copilot.domain.taxonomy import Taxonomy, load_taxonomy
from copilot.drafting.composer import TemplateWriter
from copilot.drafting.writer import ReplyWriter
from copilot.settings import Settings
from copilot.store.accounts import AccountExists, AccountStore, SignInLimits
from copilot.store.audit import AuditLog
from copilot.store.database import open_engine, upgrade
from copilot.store.drafts import DraftStore
from copilot.store.sop_revisions import SopRevisionStore
from copilot.store.sop_versions import SopVersionStore
from copilot.store.tables import metadata
from copilot.store.tickets import TicketStore
from copilot.triage import IntentClassifier, Thresholds, TriageModelError
from copilot.triage.training import (
    DETAIL_COLUMN,
    FLAGS_COLUMN,
    TRAINING_TICKETS,
    Example,
    latest_artifact,
    load_classifier,
    read_examples,
    train_classifier,
    training_files,
)
from knowledge_base.embeddings import CachedEmbeddings, LocalMiniLMEmbeddings
from knowledge_base.index import SopIndex, chroma_client
from knowledge_base.library import SopLibrary
from knowledge_base.loader import content_hash, parse_document
from knowledge_base.snapshot import LibraryHolder, LibrarySnapshot, ResolveDocument, VersionUnavailable

HELDOUT_TICKETS = Path("tickets") / "dev.jsonl"  # under datasets_dir: measures the default model
FIRST_ADMIN = "admin"  # the account made on a database with no user, so someone can sign in at all
logger = logging.getLogger(__name__)


class KnowledgeBaseEmpty(RuntimeError):
    """The index holds no SOP passages: a draft from it would cite nothing (the API answers 503)."""


@dataclass(frozen=True)
class SchemaChange:
    """What opening the records database did to its schema, for the operator to read."""

    database: str  # the URL with its password hidden
    before: str | None  # the revision found; None for a new database or one made before migrations
    after: str
    had_tables: bool  # the copilot's tables were there: with no revision, a database made before migrations

    def summary(self) -> str:
        if self.before == self.after:
            return f"already at {self.after}"
        if self.before is None:
            made = "upgraded from the tables made before migrations to" if self.had_tables else "created at"
            return f"{made} {self.after}"
        return f"upgraded from {self.before} to {self.after}"

    def __str__(self) -> str:
        return f"Database {self.database}: {self.summary()}"


@dataclass
class Records:
    """The records database's stores on one engine, its schema at the newest revision: all the operator's
    commands (accounts, keys, decisions, exports, `copilot db upgrade`) need, without the embedder or the index,
    which take seconds to load."""

    taxonomy: Taxonomy
    store: DraftStore
    tickets: TicketStore
    accounts: AccountStore
    audit: AuditLog
    sop_versions: SopVersionStore
    sop_revisions: SopRevisionStore
    schema: SchemaChange

    def close(self) -> None:
        self.store.close()  # disposes of the engine every store shares


def open_records(settings: Settings, *, taxonomy: Taxonomy | None = None) -> Records:
    """Open the configured database, upgrade its schema (see copilot/store/database.py) and build its stores."""
    taxonomy = taxonomy or load_taxonomy(settings.taxonomy_path)
    url = settings.resolved_database_url
    engine = open_engine(url, sqlite_synchronous=settings.sqlite_synchronous)
    had_tables = _has_tables(engine)
    before, after = upgrade(engine, sla_hours={p: spec.sla_hours for p, spec in taxonomy.priorities.items()})
    return Records(
        taxonomy=taxonomy,
        store=DraftStore(engine, taxonomy=taxonomy),
        tickets=TicketStore(engine, taxonomy=taxonomy),
        accounts=AccountStore(
            engine,
            limits=SignInLimits(
                max_failures=settings.login_max_failures, window=dt.timedelta(minutes=settings.login_window_minutes)
            ),
            session_hours=settings.session_hours,
        ),
        audit=AuditLog(engine),
        sop_versions=SopVersionStore(engine),
        sop_revisions=SopRevisionStore(engine),
        schema=SchemaChange(
            database=make_url(url).render_as_string(hide_password=True),
            before=before,
            after=after,
            had_tables=had_tables,
        ),
    )


def _has_tables(engine: Engine) -> bool:
    """Whether any of the copilot's tables is there already (another app's tables in the database are not ours)."""
    return bool(set(inspect(engine).get_table_names()) & set(metadata.tables))


@dataclass(frozen=True)
class FirstAdmin:
    name: str
    one_time_password: str | None  # generated, to be shown once; None when it came from COPILOT_ADMIN_PASSWORD


def new_password() -> str:
    """A password for someone to change: 16 URL-safe characters (96 random bits)."""
    return secrets.token_urlsafe(12)


def ensure_first_admin(records: Records, settings: Settings) -> FirstAdmin | None:
    """On a database with no user, make `admin` (role admin) so the console can be signed in to; returns it, or
    None when users exist. The password is COPILOT_ADMIN_PASSWORD, or a generated one the caller shows once:
    it is never logged."""
    if records.accounts.count_users():
        return None
    given = settings.admin_password.get_secret_value() if settings.admin_password is not None else None
    password = given or new_password()
    try:
        records.accounts.add_user(FIRST_ADMIN, Role.ADMIN, password, by=Actor.system("first-start"))
    except AccountExists:  # another process starting on the same database made it first
        return None
    return FirstAdmin(name=FIRST_ADMIN, one_time_password=None if given else password)


@dataclass
class Services:
    """Everything a request needs, built once per process."""

    settings: Settings
    taxonomy: Taxonomy
    snapshots: LibraryHolder
    embeddings: Embeddings
    embedder_version: str
    index: SopIndex
    store: DraftStore
    tickets: TicketStore
    accounts: AccountStore
    audit: AuditLog
    sop_versions: SopVersionStore
    sop_revisions: SopRevisionStore
    writer: ReplyWriter
    thresholds: Thresholds
    records: Records
    classifier: IntentClassifier | None = None

    def snapshot(self) -> LibrarySnapshot:
        """The library version the index holds now, whole: take it once per request and read only it, so that
        retrieval, the draft and its recorded versions agree even if a new version is published meanwhile."""
        return self.snapshots.current()

    @property
    def library(self) -> SopLibrary:
        """The published library's documents (the current snapshot's)."""
        return self.snapshot().library

    def require_index(self) -> SopIndex:
        """The index, refusing an empty one: answers from no SOPs would look like answers."""
        if self.index.count() == 0:
            where = self.settings.chroma_url or self.settings.resolved_chroma_path
            raise KnowledgeBaseEmpty(f"the knowledge base at {where} is empty; run `copilot kb ingest`")
        return self.index

    def require_classifier(self) -> IntentClassifier:
        """The loaded triage model; raises TriageModelError (503 in the API) when none is."""
        if self.classifier is None:
            raise TriageModelError("no triage model is loaded; run `copilot triage train` first")
        return self.classifier


def build_services(settings: Settings, *, embeddings: Embeddings | None = None) -> Services:
    """Build every dependency except the classifier (see `load_triage_model`).

    `embeddings` replaces the configured embedder (tests share one between several bundles).
    """
    taxonomy = load_taxonomy(settings.taxonomy_path)
    if embeddings is None:
        embeddings, embedder_version = build_embeddings(settings)
    else:
        embedder_version = embedder_version_of(embeddings)
    embeddings = CachedEmbeddings(embeddings)
    embeddings.load(warm_vectors_path(settings, embedder_version))
    client = chroma_client(path=str(settings.resolved_chroma_path), url=settings.chroma_url)
    template_writer = TemplateWriter(embeddings=embeddings)
    writer: ReplyWriter = template_writer
    if settings.writer == "openai":
        from copilot.drafting.llm import ChatModelWriter  # imports openai, which only this writer needs

        writer = ChatModelWriter(
            chat_model=build_chat_model(settings),
            model_name=settings.openai_chat_model,
            fallback=template_writer,
            taxonomy=taxonomy,
        )
    records = open_records(settings, taxonomy=taxonomy)
    index = SopIndex(client=client, collection=settings.chroma_collection, embeddings=embeddings)
    resolve = published_document(settings.sop_dir, records.sop_versions, taxonomy)
    return Services(
        settings=settings,
        taxonomy=taxonomy,
        snapshots=LibraryHolder(read=lambda: index.snapshot(resolve), stamp=index.stamp),
        embeddings=embeddings,
        embedder_version=embedder_version,
        index=index,
        store=records.store,
        tickets=records.tickets,
        accounts=records.accounts,
        audit=records.audit,
        sop_versions=records.sop_versions,
        sop_revisions=records.sop_revisions,
        writer=writer,
        thresholds=Thresholds(auto=settings.auto_apply_threshold, suggest=settings.suggest_threshold),
        records=records,
    )


def published_document(sop_dir: Path, kept: SopVersionStore, taxonomy: Taxonomy) -> ResolveDocument:
    """How a snapshot finds the text of a document version the index holds: the SOP folder's file while it is
    unchanged since the ingest, else the version kept when it was published."""

    def resolve(doc_id: str, digest: str) -> SopDocument:
        path = sop_dir / f"{doc_id}.md"
        try:
            text: str | None = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        if text is None or content_hash(text) != digest:
            version = kept.with_hash(doc_id, digest)
            if version is None:
                raise VersionUnavailable(f"{doc_id}: the version in the index is neither in {sop_dir} nor kept")
            text, path = version.text, Path(version.source_path)
        return parse_document(text, path=path, taxonomy=taxonomy)

    return resolve


def warm_vectors_path(settings: Settings, embedder_version: str) -> Path:
    """Where the warm-up's query vectors (the SOP templates' readings) are kept for the next process."""
    return settings.data_dir / "cache" / f"queries-{re.sub(r'[^A-Za-z0-9._-]+', '-', embedder_version)}.npz"


@contextmanager
def saving_warm_vectors(services: Services) -> Iterator[None]:
    """Save the vectors of the single texts embedded inside the block, so the next process built from these
    settings loads them instead of embedding them again. Wrap the warm-up only, never a ticket."""
    if not isinstance(services.embeddings, CachedEmbeddings):
        yield
        return
    with services.embeddings.recording() as asked:
        yield
    path = warm_vectors_path(services.settings, services.embedder_version)
    try:
        services.embeddings.save(path, asked)
    except OSError as exc:  # a read-only data dir: the next start embeds them again, nothing worse
        logger.warning("could not keep the warm-up's vectors in %s: %s", path, exc)


def build_embeddings(settings: Settings) -> tuple[Embeddings, str]:
    if settings.embedder == "openai":
        from langchain_openai import OpenAIEmbeddings

        _require_key(settings)
        return (
            OpenAIEmbeddings(
                model=settings.openai_embedding_model,
                openai_api_key=settings.openai_api_key,
                openai_api_base=settings.openai_base_url,
                request_timeout=settings.openai_timeout_s,
            ),
            f"openai:{settings.openai_embedding_model}",
        )
    local = local_embedder(settings)
    return local, local.version


def local_embedder(settings: Settings) -> LocalMiniLMEmbeddings:
    """The bundled MiniLM, with its ONNX export kept in <data_dir>/onnx."""
    return LocalMiniLMEmbeddings(onnx_dir=settings.data_dir / "onnx")


def embedder_version_of(embeddings: Embeddings) -> str:
    if isinstance(embeddings, LocalMiniLMEmbeddings):
        return embeddings.version
    return f"{type(embeddings).__name__}:{getattr(embeddings, 'model', '?')}"


def build_chat_model(settings: Settings, *, model: str | None = None) -> BaseChatModel:
    """The OpenAI (or compatible) chat model: the writer's, or another one such as the eval judge."""
    from langchain_openai import ChatOpenAI

    _require_key(settings)
    return ChatOpenAI(
        model=model or settings.openai_chat_model,
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_s,
        max_retries=0,
        temperature=0,
    )


def _require_key(settings: Settings) -> None:
    if settings.openai_api_key is None and settings.openai_base_url is None:
        raise ValueError("COPILOT_OPENAI_API_KEY (or COPILOT_OPENAI_BASE_URL) is required for the OpenAI options")


def load_triage_model(services: Services, *, train_if_missing: bool) -> IntentClassifier:
    """Load the configured (or newest) artifact; with train_if_missing, train the default one first."""
    settings = services.settings
    path = settings.triage_model_path or latest_artifact(settings.models_dir)
    if path is None and train_if_missing:
        path = train_default_model(services)
    if path is None:
        raise FileNotFoundError(f"no triage model in {settings.models_dir}; run `copilot triage train`")
    services.classifier = load_classifier(
        path, embeddings=services.embeddings, embedder_version=services.embedder_version, taxonomy=services.taxonomy
    )
    logger.info("Triage model %s loaded from %s", services.classifier.version, path)
    return services.classifier


def train_default_model(services: Services) -> Path:
    """Train on the shipped training tickets (measured on the dev split) and save the artifact."""
    settings = services.settings
    train = [
        example
        for path in training_files(settings.training_dir)
        for example in read_examples(path, flags_column=FLAGS_COLUMN, detail_column=DETAIL_COLUMN)
    ]
    heldout: list[Example] = read_examples(settings.datasets_dir / HELDOUT_TICKETS)
    classifier = train_classifier(
        train,
        evaluate_on=heldout,
        embeddings=services.embeddings,
        embedder_version=services.embedder_version,
        taxonomy=services.taxonomy,
        thresholds=services.thresholds,
        source=TRAINING_TICKETS,
    )
    return classifier.save(services.settings.models_dir / classifier.version)
