"""The second tier: the real embedding model on the real corpus."""

from __future__ import annotations

import shutil

import pytest

from rag.embed.embedders import load_embedder
from rag.errors import ModelUnavailableError
from rag.index.build import build_index
from rag.pipeline import Rag
from rag.settings import Settings
from tests.conftest import CORPUS, MODELS


def pytest_collection_modifyitems(items):
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def embedder():
    try:
        return load_embedder("multilingual-e5-small", MODELS)
    except ModelUnavailableError as e:
        pytest.fail(f"{e} — the integration tier needs the real model (`make model`)")


@pytest.fixture(scope="session")
def built(tmp_path_factory, embedder):
    """The bundled corpus plus one corrupt PDF, indexed once for the session."""
    root = tmp_path_factory.mktemp("real")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj broken beyond repair")
    report = build_index(corpus, root / "index", embedder)
    settings = Settings(corpus=corpus, index=root / "index", models_dir=MODELS)
    return report, Rag(settings, embedder=embedder)
