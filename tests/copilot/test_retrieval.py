"""Retrieval over the real SOP library: fused meaning and keyword rankings, filters, pinned escalation SOPs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from copilot.domain import Routing, Ticket
from copilot.domain.taxonomy import Taxonomy
from copilot.pipeline import retrieve_for, triage_batch
from copilot.retrieval import _CANDIDATES_PER_RESULT, retrieve
from copilot.services import Services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from knowledge_base.index import SopIndex, chroma_client
from knowledge_base.library import load_library
from tests.factories import SOP_DIR

pytestmark = pytest.mark.integration


def test_each_result_is_the_best_passage_of_a_different_document(ready: Services) -> None:
    passages = retrieve("my withdrawal from last week never reached my bank", index=ready.index, k=5)
    assert len(passages) == 5
    assert len({p.doc_id for p in passages}) == 5


def test_an_exact_form_name_finds_the_passages_that_name_it(ready: Services) -> None:
    hits = ready.index.keyword_search("which one do I need, the W-8BEN?", k=3)
    assert len(hits) == 3
    assert all("W-8BEN" in p.text for p in hits)


def test_a_passage_found_only_by_keyword_still_carries_its_similarity(ready: Services) -> None:
    # The keyword ranking matches the token "2FA" exactly; the embedder reads it too loosely to rank
    # the SOP passage that names it among its best, so that passage reaches the results by keyword alone.
    query, k = "2FA", 5
    depth = k * _CANDIDATES_PER_RESULT  # how deep retrieve() reads each ranking
    by_meaning = {p.chunk_id for p in ready.index.search(query, k=depth)}
    by_keyword = {p.chunk_id for p in ready.index.keyword_search(query, k=depth)}
    passages = retrieve(query, index=ready.index, k=k)
    keyword_only = [p for p in passages if p.chunk_id in by_keyword and p.chunk_id not in by_meaning]
    assert keyword_only, f"no passage of {[p.chunk_id for p in passages]} was found by keyword alone"
    query_vector = np.asarray(ready.embeddings.embed_query(query))
    for passage in keyword_only:
        similarity = float(np.asarray(ready.embeddings.embed_documents([passage.text])[0]) @ query_vector)
        assert -1.0 <= passage.score <= 1.0
        assert passage.score == pytest.approx(similarity, abs=1e-3), f"{passage.chunk_id} keeps a non-similarity score"


def test_templates_in_another_language_are_never_retrieved(ready: Services) -> None:
    spanish = retrieve("no me llegó el retiro de mi dinero", index=ready.index, k=5, language="es")
    english = retrieve("my withdrawal never arrived", index=ready.index, k=5, language="en")
    assert all(not p.section.endswith(("[pt]", "[de]", "[fr]")) for p in spanish)
    assert all(not p.section.endswith("]") or p.section.endswith("[en]") for p in english)


def test_a_stated_lob_keeps_other_lobs_out(ready: Services) -> None:
    passages = retrieve("my withdrawal never arrived", index=ready.index, k=5, lob="account_access")
    assert passages and all(p.lob in ("account_access", "all") for p in passages)


def test_a_lob_triage_is_sure_of_filters_and_an_unsure_one_only_ranks(ready: Services) -> None:
    ticket = Ticket(text="I requested a withdrawal of $85 on 2 March and it still hasn't reached my bank account.")
    sure = triage_batch([ticket], services=ready)[0]
    assert sure.routing is Routing.AUTO and sure.lob == "creator_rewards"
    filtered = retrieve_for(ticket, sure, services=ready, k=8)
    assert all(p.lob in ("creator_rewards", "all") for p in filtered)
    unsure = sure.model_copy(update={"routing": Routing.SUGGEST})
    assert any(p.lob not in ("creator_rewards", "all") for p in retrieve_for(ticket, unsure, services=ready, k=8))


def test_triaged_intents_rank_their_sop_first(ready: Services) -> None:
    ticket = "I changed my bank details and now nothing arrives"
    for_update = retrieve(ticket, index=ready.index, k=5, intents=["payment_method_update"])
    for_missing = retrieve(ticket, index=ready.index, k=5, intents=["payout_missing"])
    assert for_update[0].doc_id == "SOP-CR-04"
    assert for_missing[0].doc_id == "SOP-CR-03"


def test_a_pinned_escalation_sop_comes_first_whatever_it_scores(ready: Services) -> None:
    passages = retrieve("where is my payout", index=ready.index, k=5, pinned=["SOP-ESC-01"])
    assert passages[0].doc_id == "SOP-ESC-01"
    assert len({p.doc_id for p in passages}) == 5


def test_keyword_search_sees_a_change_made_by_another_process(
    tmp_path: Path, embeddings: LocalMiniLMEmbeddings, taxonomy: Taxonomy
) -> None:
    library = load_library(SOP_DIR, taxonomy)
    server = SopIndex(client=chroma_client(path=str(tmp_path / "c")), collection="sops", embeddings=embeddings)
    server.sync([library.documents["SOP-AA-01"]], max_tokens=350)
    assert all(p.doc_id == "SOP-AA-01" for p in server.keyword_search("W-8BEN tax form", k=3))
    cli = SopIndex(client=chroma_client(path=str(tmp_path / "c")), collection="sops", embeddings=embeddings)
    cli.sync([library.documents["SOP-AA-01"], library.documents["POL-REWARDS"]], max_tokens=350)
    assert server.keyword_search("W-8BEN tax form", k=1)[0].doc_id == "POL-REWARDS"
