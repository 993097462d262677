"""Who may import whom (issue 15's rules): the runtime never imports the tools in
`rag.evaluation`; the answerer (`rag.answer`, `rag.facts`) reads the Query but never sees the index or
the searcher, it gets a Catalog; the layers below it (`rag.lang`, `rag.ingest`, `rag.embed`, `rag.types`) never
reach up; and only the CLI reaches the web app. Every import counts, also those inside functions."""

import ast
from pathlib import Path

import pytest

RAG = Path(__file__).resolve().parents[2] / "rag"
TOOLS = {"rag.evaluation"}
SURFACES = {"rag.cli", "rag.__main__"}
WEB = {"rag.web"}
ANSWERER = {"rag.answer", "rag.facts"}
# it reads the one Query (rag.query.understand) but never searches or loads
BELOW_THE_ANSWERER = {"rag.index", "rag.query.search", "rag.query.fusion", "rag.pipeline", "rag.settings"}
# the bottom layers: text, documents, embeddings; they know nothing of indexes, queries or answers
FOUNDATION = {"rag.lang", "rag.ingest", "rag.embed", "rag.types", "rag.errors"}
ABOVE_THE_FOUNDATION = {"rag.index", "rag.query", "rag.answer", "rag.facts", "rag.pipeline"}


def _module(path: Path) -> str:
    parts = path.relative_to(RAG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every rag module the file may load: `from rag.x import y` counts as rag.x and rag.x.y (y may be
    a module), and `from rag import Name` as the module Name is re-exported from."""
    import rag

    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (the rules read absolute ones)"
            out.add(node.module)
            for a in node.names:
                out.add(f"{node.module}.{a.name}")
                if node.module == "rag" and a.name in rag._PUBLIC:
                    out.add(rag._PUBLIC[a.name])
    return {m for m in out if m == "rag" or m.startswith("rag.")}


MODULES = {_module(p): _imports(p) for p in sorted(RAG.rglob("*.py"))}


def _under(name: str, prefixes: set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _modules_under(prefixes: set[str]) -> list[str]:
    return sorted(m for m in MODULES if _under(m, prefixes))


# `rag/__init__.py` re-exports the public names lazily, so it is a surface too
RUNTIME = sorted(m for m in MODULES if not _under(m, TOOLS | SURFACES | WEB) and m != "rag")


@pytest.mark.parametrize("module", RUNTIME)
def test_the_runtime_never_imports_a_tool(module):
    assert not {i for i in MODULES[module] if _under(i, TOOLS)}


@pytest.mark.parametrize("module", _modules_under(ANSWERER))
def test_the_answerer_never_sees_the_index(module):
    assert not {i for i in MODULES[module] if _under(i, BELOW_THE_ANSWERER)}


@pytest.mark.parametrize("module", _modules_under(FOUNDATION))
def test_the_foundation_never_reaches_up(module):
    assert not {i for i in MODULES[module] if _under(i, ABOVE_THE_FOUNDATION | TOOLS | WEB)}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _under(m, SURFACES | WEB)))
def test_only_the_cli_reaches_the_web_app(module):
    assert not {i for i in MODULES[module] if _under(i, WEB)}


# the stages in order: a module imports only from its own rank or below ("no stage reaches back")
LAYERS = (
    {"rag.errors", "rag.stopwatch"},
    {"rag.lang"},
    {"rag.types"},
    {"rag.ingest", "rag.embed"},
    {"rag.facts"},
    {"rag.index"},
    {"rag.query"},
    {"rag.answer"},
    {"rag.settings"},
    {"rag.pipeline"},
)


def _rank(name: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if _under(name, layer)), None)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _rank(m) is not None))
def test_no_stage_reaches_back(module):
    mine = _rank(module)
    assert not {i for i in MODULES[module] if (_rank(i) is None and i != "rag") or (_rank(i) or 0) > mine}


def test_the_index_store_knows_nothing_of_facts():
    assert not {i for i in MODULES["rag.index.store"] if _under(i, {"rag.facts"})}


def test_the_rules_see_the_package():
    # the walk finds what it should: each role folder is there, and imports inside functions count
    assert {"rag.pipeline", "rag.answer.extractive", "rag.web.app", "rag.cli", "rag.index.build"} <= set(MODULES)
    for role in ("lang", "ingest", "facts", "embed", "index", "query", "answer", "web", "evaluation"):
        assert _modules_under({f"rag.{role}"}), role
    assert "rag.web.app" in MODULES["rag.cli"]  # imported inside cmd_serve
    assert "rag.index.store" in MODULES["rag.query.search"]


def test_the_public_names_come_from_rag_and_cost_nothing_until_used():
    import subprocess
    import sys

    code = (
        "import sys, rag; before = {m for m in sys.modules if m.startswith('rag.')}; "
        "assert not before, before; assert set(rag.__all__) == set(rag._PUBLIC); "
        "assert all(getattr(rag, n).__module__ == rag._PUBLIC[n] for n in rag.__all__)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
