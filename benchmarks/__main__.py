"""Run the benchmark modules: ``python -m benchmarks [--quick] [bench_name ...]``."""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import time
from pathlib import Path


def _modules() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(here)])
        if info.name.startswith("bench_")
    )


def main() -> None:
    """Parse the arguments and run the chosen benchmark modules in name order."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help="modules to run, e.g. bench_scoring")
    parser.add_argument("--quick", action="store_true", help="smaller workloads")
    args = parser.parse_args()
    chosen = args.names or _modules()
    unknown = sorted(set(chosen) - set(_modules()))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {_modules()}")
    for name in chosen:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}")
        started = time.perf_counter()
        if "quick" in inspect.signature(module.main).parameters:
            module.main(quick=args.quick)
        else:
            module.main()
        print(f"   ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
