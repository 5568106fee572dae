"""The example organisation built from the ABCD agent guidelines (examples/abcd): its SOP library and taxonomy load and
ingest with the copilot's own loader, and its query set names only SOPs and intents that library holds."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from copilot.domain.taxonomy import Taxonomy, load_taxonomy
from copilot.pipeline import ingest
from copilot.services import build_services
from copilot.settings import PROJECT_ROOT
from evals.cases.schemas import LibraryQuery
from evals.suites.library_retrieval import library_retrieval_suite
from knowledge_base.library import SopLibrary, load_library
from tests.factories import make_settings

EXAMPLE = PROJECT_ROOT / "examples" / "abcd"
SOP_DIR = EXAMPLE / "sop"
SUBFLOWS, FLOWS = 55, 10  # ABCD's guidelines: 10 flows, 55 subflows
MIN_QUERIES_PER_INTENT = 4


@pytest.fixture(scope="module")
def abcd_taxonomy() -> Taxonomy:
    return load_taxonomy(SOP_DIR / "taxonomy.yaml")


@pytest.fixture(scope="module")
def abcd_library(abcd_taxonomy: Taxonomy) -> SopLibrary:
    return load_library(SOP_DIR, abcd_taxonomy)


def read_queries() -> list[LibraryQuery]:
    lines = (EXAMPLE / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [LibraryQuery.model_validate(json.loads(line)) for line in lines if line.strip()]


@pytest.mark.unit
def test_the_library_loads_with_one_sop_per_subflow_and_no_conflicts(
    abcd_taxonomy: Taxonomy, abcd_library: SopLibrary
) -> None:
    assert (len(abcd_taxonomy.lobs), len(abcd_taxonomy.intents)) == (FLOWS, SUBFLOWS)
    sops = [d for d in abcd_library.active() if d.doc_type == "sop"]
    assert sorted(i for d in sops for i in d.intents) == sorted(abcd_taxonomy.intents)  # each intent exactly once
    assert abcd_library.conflicts == []  # not even a warning: every reference and figure resolves
    assert all(d.section("When this applies") and d.templates_in("en") for d in sops)


@pytest.mark.unit
def test_every_query_names_an_sop_of_the_library_written_for_its_intent(abcd_library: SopLibrary) -> None:
    queries = read_queries()
    assert len({q.id for q in queries}) == len(queries)
    for query in queries:
        first = abcd_library.documents.get(query.expected_sop[0])
        assert first is not None and first.doc_type == "sop", query.id
        assert query.intent in first.intents, query.id
        assert all(doc_id in abcd_library.documents for doc_id in query.expected_sop), query.id
    per_intent = Counter(q.intent for q in queries)
    assert len(per_intent) == SUBFLOWS and min(per_intent.values()) >= MIN_QUERIES_PER_INTENT


@pytest.mark.integration
def test_the_library_ingests_and_its_queries_are_measured(tmp_path: Path, embeddings: Embeddings) -> None:
    services = build_services(make_settings(tmp_path, sop_dir=SOP_DIR), embeddings=embeddings)
    try:
        report = ingest(services)
        assert (len(report.added), report.warnings) == (SUBFLOWS + 2, [])  # the 55 SOPs and their two policies
        queries = read_queries()[:6]
        result = library_retrieval_suite(services, queries, dataset="inline", k=5)
        assert result.cases == 6 and result.metrics["recall_at_3"] is not None
        assert "no triage model" in result.dataset  # an organisation with its own library has none yet
        wrong = queries[0].model_copy(update={"expected_sop": ["SOP-TS-04"], "intent": "website_slow"})
        missed = library_retrieval_suite(services, [wrong], dataset="inline", k=5)
        assert missed.metrics["recall_at_1"] == 0.0
        assert missed.failures[0].problems[0].startswith("SOP-TS-04 (website_slow) not first")
        with pytest.raises(ValueError, match="SOP-CR-03 is not in the ingested library"):
            library_retrieval_suite(services, [wrong.model_copy(update={"expected_sop": ["SOP-CR-03"]})], dataset="x")
    finally:
        services.store.close()
