"""`python -m bench [--quick] [NAME ...]`: run the benchmarks and print one table."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import bench
from bench.common import Result


def _modules(names: list[str]) -> list[str]:
    found = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    if names:
        found = [m for m in found if any(n in m for n in names)]
    return found


def _print(results: list[Result]) -> None:
    head = f"{'benchmark':46} {'figure':>14} {'baseline':>14} {'unit':>10} {'ratio':>8} {'target':>9}  ok"
    print(head)
    print("-" * len(head))
    for r in results:
        sign = ">=" if r.higher_is_better else "<="
        print(
            f"{r.name:46} {r.figure:14.4g} {r.baseline:14.4g} {r.unit:>10} "
            f"{r.ratio:8.3f} {sign + format(r.target, 'g'):>9}  {'yes' if r.met else 'NO'}"
        )
        print(f"{'':46} baseline: {r.baseline_name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    results: list[Result] = []
    for name in _modules(args.names):
        module = importlib.import_module(f"bench.{name}")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.extend(module.run(quick=args.quick))
    _print(results)
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
