"""Shared fixtures: every test runs in its own temp folder with no RAG_* settings
leaking in from the environment; unit tests use the deterministic fake embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag.pipeline
from tests.fakes import FakeEmbedder

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
MODELS = REPO / "models"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    for var in (
        "RAG_CORPUS",
        "RAG_INDEX",
        "RAG_MODEL",
        "RAG_MODELS_DIR",
        "RAG_CONFIG",
        "RAG_BACKEND",
        "RAG_LLM_URL",
        "RAG_LLM_MODEL",
        "RAG_LLM_TIMEOUT",
        "RAG_LLM_API_KEY",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RAG_MODELS_DIR", str(MODELS))
    monkeypatch.chdir(tmp_path)
    # RAG_MODEL=fake (tests only): the CLI and the app run on the fake embedder
    real = rag.pipeline.load_embedder
    monkeypatch.setattr(
        rag.pipeline, "load_embedder", lambda name, *a, **k: FakeEmbedder() if name == "fake" else real(name, *a, **k)
    )
    return tmp_path


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


TOKUSHIMA_TEXT = """デジタルとくしま推進プラン

KGI 公文書の電子化率（電子決裁システム利用率）2022(R4)年度 100%

電子決裁システムの利用促進
電子決裁・文書管理システムを活用した公文書の電子化を
推進し、2022（令和4）年度までに100%電子化する。

令和２年度 令和３年度 令和４年度 令和５年度 令和６年度

目標
実績

－
８７％

９０％
９５％

１００％
－
"""

MIE_TEXT = """【主担当部局：総務部】

めざす姿（令和５年度末での到達目標）

スマート自治体に向けた取組が進み、職員の働き方の質が高まるとともに、県民サービスの向上につながっています。

テレワークを利用した所属数は６０所属です。
"""

OKAYAMA_TEXT = """岡山県DX推進指針

岡山県ではマイナンバーカードの普及促進に取り組む。対象期間は令和３年度から令和７年度までとする。
"""


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    return write_files(
        tmp_path / "corpus",
        {
            "tokushima.txt": TOKUSHIMA_TEXT,
            "mie.txt": MIE_TEXT,
            "okayama.md": OKAYAMA_TEXT,
            "metadata.toml": '[documents."tokushima.txt"]\nprefecture = "徳島"\ntitle = "デジタルとくしま推進プラン"\n\n'
            '[documents."mie.txt"]\nprefecture = "Mie"\ntitle = "施策シート"\n',
        },
    )
