"""Run every benchmark module (or those named on the command line) and print figures.

Each ``bench/bench_<topic>.py`` defines ``run() -> list[Figure]``; a figure with a
target says whether the target was met, and the run exits 1 if any was missed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench
from bench.figures import Figure


def main(argv: list[str]) -> int:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(bench.__path__)
        if info.name.startswith("bench_")
    )
    wanted = [f"bench_{name.removeprefix('bench_')}" for name in argv]
    missed = 0
    for name in wanted or names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name.removeprefix('bench_')}", flush=True)
        figures: list[Figure] = module.run()
        for figure in figures:
            print(f"   {figure}", flush=True)
            missed += figure.met is False
    print(f"== {missed} target(s) missed" if missed else "== all targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
