"""A corpus folder as it arrives from the outside: links out of it, files that are not what
their name says, names that are not UTF-8. Each is reported by name; the rest index."""

import os

import pytest

from rag.index.build import build_index
from rag.index.store import load_index
from rag.ingest.documents import scan_corpus

TEXT = "香川県の計画。オープンデータの公開件数を令和7年度までに500件とする。"


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "good.txt").write_text(TEXT, encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:秘密の行", encoding="utf-8")
    os.symlink(secret, root / "leak.txt")  # a link out of the corpus
    os.symlink(tmp_path / "gone.txt", root / "dangling.txt")  # a link to nothing
    (root / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0 an old .doc renamed")  # not a zip
    (root / "notepad.txt").write_bytes(TEXT.encode("utf-16"))  # UTF-16 with its byte-order mark
    sjis = "計画書.txt".encode("cp932")  # a Shift_JIS file name, as zips from Japanese Windows carry
    with open(os.path.join(os.fsencode(root), sjis), "wb") as f:
        f.write("高知県の計画。高知県は目標を定める。".encode())
    return root


def test_links_out_of_the_corpus_and_to_nothing_are_reported_not_read(corpus):
    sources, skipped = scan_corpus(corpus)
    assert {s.doc_id for s in sources} >= {"good.txt", "notepad.txt", "計画書.txt", "old.docx"}
    assert "leak.txt" not in {s.doc_id for s in sources}
    reasons = {f.doc_id: f.reason for f in skipped}
    assert "outside the corpus" in reasons["leak.txt"] and "leads nowhere" in reasons["dangling.txt"]


def test_every_bad_file_is_reported_and_every_good_one_indexes(corpus, tmp_path, fake_embedder):
    report = build_index(corpus, tmp_path / "index", fake_embedder)
    failed = {f.doc_id: f.reason for f in report.failed}
    assert set(failed) == {"leak.txt", "dangling.txt", "old.docx"}
    assert sorted(report.added) == ["good.txt", "notepad.txt", "計画書.txt"]
    index = load_index(tmp_path / "index", fake_embedder)
    texts = " ".join(c.text for c in index.chunks)
    assert "秘密の行" not in texts  # nothing from outside the corpus
    assert "オープンデータ" in texts and "高知県" in texts
    # a second build over the same folder is not blocked by them either
    again = build_index(corpus, tmp_path / "index", fake_embedder)
    assert {f.doc_id for f in again.failed} == set(failed)


def test_a_link_to_a_file_of_the_corpus_is_read_once(corpus):
    os.symlink(corpus / "good.txt", corpus / "again.txt")
    sources, skipped = scan_corpus(corpus)
    assert [s.doc_id for s in sources].count("good.txt") == 1 and "again.txt" not in {s.doc_id for s in sources}
    assert "good.txt" in {f.doc_id: f.reason for f in skipped}["again.txt"]


def test_a_corpus_path_that_is_a_file_says_so(tmp_path):
    from rag.errors import CorpusError

    (tmp_path / "f.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError, match="is a file, not a folder"):
        scan_corpus(tmp_path / "f.txt")
