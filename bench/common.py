"""What every benchmark returns, so `make bench` can print one table."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One measured figure against its baseline, measured in the same run.

    `ratio` is engine / baseline in the figure's unit; `target` says what ratio
    passes and `higher_is_better` which side of it is good.
    """

    name: str
    figure: float
    baseline: float
    unit: str
    baseline_name: str
    target: float
    higher_is_better: bool

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """The fastest of `repeats` runs of fn, in seconds (the least disturbed one)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def print_profile(fn: Callable[[], object], top: int = 40) -> None:
    """Run `fn` under cProfile and print the heaviest calls to stderr (`--profile`)."""
    import cProfile
    import pstats
    import sys

    profiler = cProfile.Profile()
    profiler.runcall(fn)
    stats = pstats.Stats(profiler, stream=sys.stderr).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top * 2 // 3)
