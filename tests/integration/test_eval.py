"""The regression guard: the eval on the bundled corpus must not fall below eval/thresholds.json."""

from rag.evaluation.evaluate import (
    DEFAULT_QA,
    DEFAULT_THRESHOLDS,
    check_thresholds,
    evaluate,
    load_qa,
    load_thresholds,
    write_report,
)
from tests.conftest import REPO


def test_eval_meets_recorded_thresholds(built, tmp_path):
    _, rag = built
    report = evaluate(rag, load_qa(REPO / DEFAULT_QA))
    paths = write_report(report, tmp_path / "reports")
    assert [p.name for p in paths] == ["eval.md", "eval.json", "eval.png"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert check_thresholds(report.metrics, load_thresholds(REPO / DEFAULT_THRESHOLDS)) == []
