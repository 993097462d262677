"""Seconds spent per named stage, summed over calls (`rag index --profile`, the bench)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stopwatch:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def table(self, total: float | None = None) -> str:
        total = total if total is not None else sum(self.seconds.values())
        rows = [f"{'stage':<28} {'seconds':>8} {'share':>6}"]
        for name, s in self.seconds.items():
            rows.append(f"{name:<28} {s:8.2f} {s / total * 100 if total else 0:5.1f}%")
        rows.append(f"{'total':<28} {total:8.2f}")
        return "\n".join(rows)
