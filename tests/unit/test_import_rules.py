"""Who may import whom (issue 15's rules, on today's layout): the runtime never imports the tools,
the answerer never sees the Index (it gets a Catalog), and only the CLI reaches the web app.
Every import counts, also those inside functions."""

import ast
from pathlib import Path

import pytest

RAG = Path(__file__).resolve().parents[2] / "rag"
TOOLS = {
    "rag.evaluation.bench",
    "rag.evaluation.evaluate",
    "rag.evaluation.jsquad",
    "rag.evaluation.fit_reader",
    "rag.embed.convert",
}
SURFACES = {"rag.cli", "rag.__main__"}
ANSWERING = {
    "rag.answer.extractive",
    "rag.answer.sentences",
    "rag.answer.generator",
    "rag.answer.verify",
    "rag.answer.phrasing",
    "rag.facts.tables",
    "rag.facts.extract",
}


def _module(path: Path) -> str:
    parts = path.relative_to(RAG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            if node.module == "rag":
                out |= {f"rag.{a.name}" for a in node.names}
    return {m for m in out if m == "rag" or m.startswith("rag.")}


MODULES = {_module(p): _imports(p) for p in sorted(RAG.rglob("*.py"))}


def _under(name: str, prefixes: set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _under(m, TOOLS | SURFACES | {"rag.web"})))
def test_the_runtime_never_imports_a_tool(module):
    assert not {i for i in MODULES[module] if _under(i, TOOLS)}


@pytest.mark.parametrize("module", sorted(ANSWERING))
def test_the_answerer_never_sees_the_index(module):
    assert "rag.index.store" not in MODULES[module] and "rag.query.search" not in MODULES[module]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _under(m, SURFACES | {"rag.web"})))
def test_only_the_cli_reaches_the_web_app(module):
    assert not {i for i in MODULES[module] if _under(i, {"rag.web"})}


def test_the_rules_see_the_package():
    assert {"rag.pipeline", "rag.answer.extractive", "rag.web.app", "rag.cli"} <= set(MODULES)
    assert "rag.index.store" in MODULES["rag.answer.catalog"]  # the walk finds imports: the catalog is built from the Index
