"""Settings turned, once, into the dependencies the pipeline stages take."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from copilot.domain.taxonomy import Taxonomy, load_taxonomy
from copilot.drafting.composer import TemplateWriter
from copilot.drafting.llm import ChatModelWriter
from copilot.drafting.writer import ReplyWriter
from copilot.settings import Settings
from copilot.store.drafts import DraftStore
from copilot.triage import IntentClassifier, Thresholds
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
from knowledge_base.library import SopLibrary, load_library

HELDOUT_TICKETS = Path("tickets") / "dev.jsonl"  # under datasets_dir: measures the default model


@dataclass
class Services:
    """Everything a request needs, built once per process."""

    settings: Settings
    taxonomy: Taxonomy
    library: SopLibrary
    embeddings: Embeddings
    embedder_version: str
    index: SopIndex
    store: DraftStore
    writer: ReplyWriter
    thresholds: Thresholds
    classifier: IntentClassifier | None = None

    def require_index(self) -> SopIndex:
        """The index, refusing an empty one: answers from no SOPs would look like answers."""
        if self.index.count() == 0:
            raise RuntimeError(
                f"the knowledge base at {self.settings.resolved_chroma_path} is empty; run `copilot kb ingest`"
            )
        return self.index

    def require_classifier(self) -> IntentClassifier:
        if self.classifier is None:
            raise RuntimeError("no triage model is loaded; run `copilot triage train` first")
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
    client = chroma_client(path=str(settings.resolved_chroma_path), url=settings.chroma_url)
    template_writer = TemplateWriter(embeddings=embeddings)
    writer: ReplyWriter = template_writer
    if settings.writer == "openai":
        writer = ChatModelWriter(
            chat_model=build_chat_model(settings),
            model_name=settings.openai_chat_model,
            fallback=template_writer,
            taxonomy=taxonomy,
        )
    return Services(
        settings=settings,
        taxonomy=taxonomy,
        library=load_library(settings.sop_dir, taxonomy),
        embeddings=embeddings,
        embedder_version=embedder_version,
        index=SopIndex(client=client, collection=settings.chroma_collection, embeddings=embeddings),
        store=DraftStore(settings.resolved_database_url),
        writer=writer,
        thresholds=Thresholds(auto=settings.auto_apply_threshold, suggest=settings.suggest_threshold),
    )


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
    local = LocalMiniLMEmbeddings(onnx_dir=settings.data_dir / "onnx")
    return local, local.version


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
