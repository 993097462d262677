"""Model folders are written beside their place and renamed into it, so an interrupted build
never leaves half a folder behind."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary sibling of `target` to write into; when the block ends it replaces `target`,
    when the block fails it is removed and `target` is left as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield tmp
        tmp.chmod(0o755)
        # the old folder is moved aside, not deleted, until the new one is in place: a crash in
        # between leaves it whole beside its place, never half deleted
        old = target.with_name(f".{target.name}-old") if target.exists() else None
        if old:
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
        tmp.rename(target)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
