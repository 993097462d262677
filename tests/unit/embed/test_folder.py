"""A model folder is replaced whole or not at all."""

import pytest

from rag.embed.folder import replacing


def test_a_finished_block_replaces_the_folder(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.bin").write_text("old")
    with replacing(target) as tmp:
        (tmp / "new.bin").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new.bin"] and list(tmp_path.iterdir()) == [target]


def test_a_failed_block_leaves_the_folder_as_it_was(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.bin").write_text("old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        (tmp / "half.bin").write_text("half")
        raise RuntimeError("interrupted")
    assert [p.name for p in target.iterdir()] == ["old.bin"] and list(tmp_path.iterdir()) == [target]
