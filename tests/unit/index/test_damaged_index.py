"""A damaged index never gives a traceback: loading names the file and says to rebuild,
`rag info` reports it, and the next `rag index` builds over it."""

import numpy as np
import pytest

from rag.cli import main
from rag.errors import IndexMismatchError
from rag.index.build import build_index
from rag.index.store import load_index, verify_index


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(path):
    path.write_bytes(b"")


def _garble(path):
    data = bytearray(path.read_bytes())
    for i in range(0, len(data), 7):
        data[i] = (data[i] + 13) % 256
    path.write_bytes(bytes(data))


def _wrong_dim(path):
    v = np.load(path)
    np.save(path, v[:, : v.shape[1] // 2].copy())


DAMAGE = [
    (name, how)
    for name in ("documents.json", "chunks.jsonl", "vectors.npy", "dense.faiss", "facts.jsonl", "units.npy", "unit_vectors.npy")
    for how in (_truncate, _empty, _garble, "missing")
] + [("vectors.npy", _wrong_dim), ("bm25/params.index.json", _empty), ("bm25", "missing")]


@pytest.fixture
def built(small_corpus, tmp_path, fake_embedder, monkeypatch):
    build_index(small_corpus, tmp_path / "index", fake_embedder)
    monkeypatch.setenv("RAG_MODEL", "fake")
    monkeypatch.setenv("RAG_CORPUS", str(small_corpus))
    monkeypatch.setenv("RAG_INDEX", str(tmp_path / "index"))
    return tmp_path / "index"


@pytest.mark.parametrize(("name", "how"), DAMAGE, ids=[f"{n}-{getattr(h, '__name__', h)}" for n, h in DAMAGE])
def test_a_damaged_file_is_named_and_rebuilt_over(built, fake_embedder, capsys, name, how):
    target = (built / "current").resolve() / name
    if how == "missing":
        import shutil

        shutil.rmtree(target) if target.is_dir() else target.unlink()
    else:
        how(target)
    with pytest.raises(IndexMismatchError, match=r"rag index --rebuild"):
        load_index(built, fake_embedder)
    assert any(name.split("/")[0] in p for p in verify_index(built, fake_embedder))
    # the CLI: one line, no traceback; `rag info` reports the damage
    assert main(["ask", "電子決裁の目標は？"]) == 1
    assert main(["info"]) == 1
    _, err = capsys.readouterr()
    assert "Traceback" not in err and "rebuild" in err
    # and the next build is not blocked by it
    assert main(["index", "--quiet"]) == 0
    assert load_index(built, fake_embedder).chunks and verify_index(built, fake_embedder) == []


@pytest.mark.parametrize("name", ["vectors.npy", "bm25/data.csc.index.npy", "chunks.jsonl"])
def test_a_same_size_change_is_found_and_a_plain_build_repairs_it(built, fake_embedder, small_corpus, tmp_path, name):
    target = (built / "current").resolve() / name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit: the size and (often) the load still pass
    target.write_bytes(bytes(data))
    assert any("changed since the build" in p for p in verify_index(built, fake_embedder))
    assert main(["index", "--quiet"]) == 0  # not --rebuild
    assert verify_index(built, fake_embedder) == []
    clean = build_index(small_corpus, tmp_path / "clean", fake_embedder) and load_index(tmp_path / "clean", fake_embedder)
    repaired = load_index(built, fake_embedder)
    assert [c.text for c in repaired.chunks] == [c.text for c in clean.chunks]
    assert np.array_equal(repaired.vectors, clean.vectors)  # nothing damaged was carried into the new build
