"""Benchmarks: each module bench_*.py has `run(quick: bool) -> list[bench.common.Result]`."""
