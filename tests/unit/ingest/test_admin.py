import pytest

from rag.ingest.documents import load_metadata
from rag.ingest.uploads import AdminAuthError, UploadError, add_upload, check_token, current_metadata, edit_metadata, safe_name

NAMES = [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\x.pdf", "x.pdf"),
    ("計画 <script>.PDF", "計画 _script.pdf"),
    ("徳島県プラン.pdf", "徳島県プラン.pdf"),
    (".hidden.md", "hidden.md"),
    ("", "document"),
]


@pytest.mark.parametrize(("raw", "expected"), NAMES)
def test_safe_name(raw, expected):
    assert safe_name(raw) == expected


def upload(tmp_path, name, content=b"x"):
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    return path


def test_upload_is_added_with_metadata(small_corpus, tmp_path):
    result = add_upload(
        small_corpus, upload(tmp_path, "x", "香川県の計画".encode()), "../kagawa plan.txt", "Kagawa", "香川DX", "令和5年度"
    )
    assert result.added and result.doc_id == "kagawa plan.txt"
    assert (small_corpus / "kagawa plan.txt").read_text(encoding="utf-8") == "香川県の計画"
    meta = load_metadata(small_corpus)["kagawa plan.txt"]
    assert (meta.prefecture, meta.title, meta.fiscal_year) == ("香川県", "香川DX", "令和5年度")


def test_duplicate_content_is_detected(small_corpus, tmp_path):
    same = (small_corpus / "mie.txt").read_bytes()
    result = add_upload(small_corpus, upload(tmp_path, "x", same), "copy.txt")
    assert not result.added and result.duplicate_of == "mie.txt"
    assert not (small_corpus / "copy.txt").exists()


def test_same_name_gets_a_new_name(small_corpus, tmp_path):
    result = add_upload(small_corpus, upload(tmp_path, "x", "別の内容".encode()), "mie.txt")
    assert result.doc_id == "mie-2.txt"


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "message"),
    [
        ("evil.exe", b"MZ", {}, "not accepted"),
        ("empty.txt", b"", {}, "empty"),
        ("big.txt", b"x" * 100, {"max_bytes": 10}, "limit"),
        ("a.txt", b"x", {"prefecture": "Atlantis"}, "not a prefecture"),
    ],
)
def test_bad_uploads_are_refused(small_corpus, tmp_path, name, content, kwargs, message):
    with pytest.raises(UploadError, match=message):
        add_upload(small_corpus, upload(tmp_path, name, content), name, **kwargs)


def test_token():
    check_token("s3cret", "s3cret")
    with pytest.raises(AdminAuthError, match="wrong"):
        check_token("nope", "s3cret")
    with pytest.raises(AdminAuthError, match="turned off"):
        check_token("anything", None)


def test_edit_form_starts_from_the_saved_metadata_and_keeps_what_it_does_not_show(small_corpus, tmp_path):
    add_upload(
        small_corpus, upload(tmp_path, "x", "香川県の計画".encode()), "k.txt", None, "香川DX", "令和5年度", issuer="香川県"
    )
    path = small_corpus / "metadata.toml"
    path.write_text(path.read_text(encoding="utf-8") + 'date = "2023-04-01"\n', encoding="utf-8")
    assert current_metadata(small_corpus, "k.txt") == ("香川県", "香川DX", "令和5年度")
    issuer, _title, year = current_metadata(small_corpus, "k.txt")
    edit_metadata(small_corpus, "k.txt", issuer, "香川県DX推進計画", year)  # only the title edited
    meta = load_metadata(small_corpus)["k.txt"]
    assert (meta.prefecture, meta.issuer, meta.title, meta.fiscal_year, meta.date) == (
        "香川県",
        "香川県",
        "香川県DX推進計画",
        "令和5年度",
        "2023-04-01",
    )
    assert current_metadata(small_corpus, "tokushima.txt")[0] == "徳島県"
    # a finer issuer than the prefecture is kept when only the title changes
    path.write_text(path.read_text(encoding="utf-8").replace('issuer = "香川県"', 'issuer = "香川県 総務部"'), encoding="utf-8")
    edit_metadata(small_corpus, "k.txt", "香川県", "香川県DX推進計画（改訂）", "令和5年度")
    assert load_metadata(small_corpus)["k.txt"].issuer == "香川県 総務部"
    assert current_metadata(small_corpus, "not-there.txt") == ("", "", "")
