"""Time ``import cloudrate`` against the import of its core dependencies, in fresh interpreters.

Run: ``python benchmarks/bench_import.py [--runs N]`` (default 21).

Each measurement is a new interpreter that times one import statement with
``time.perf_counter`` around it (interpreter start-up is not counted). The baseline is
what any program using cloudrate pays anyway: importing attrs, py-moneyed, Babel's
numbers, python-dateutil's relativedelta and PyYAML. The front door's bound is 1.5x that
baseline; the script prints the medians, the ratio and whether the bound holds, plus the
cost of the main path (plans, usage, rate(), results: loaded on first use of a name) and
of the subpackages loaded on first use, for information.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

BOUND = 1.5

CORE = "import attrs, moneyed, babel.numbers, dateutil.relativedelta, yaml"
CASES = {
    "core dependencies": CORE,
    "import cloudrate": "import cloudrate",
    "cloudrate main path": "from cloudrate import load_plan, rate, UsageRecord, RatingResult",
    "cloudrate + rules": "import cloudrate.rules",
    "cloudrate + invoice": "import cloudrate.invoice",
    "cloudrate + columnar engine": "import cloudrate.rating.columnar",
}

_PROBE = (
    "import time; t = time.perf_counter(); {statement}; "
    "print(time.perf_counter() - t); import sys; "
    "print(sum(1 for m in sys.modules if m.startswith('cloudrate')))"
)


def measure(statement: str, runs: int) -> tuple[float, int]:
    """The median seconds of *statement* in *runs* fresh interpreters, and the number of
    cloudrate modules it loaded."""
    times: list[float] = []
    modules = 0
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE.format(statement=statement)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        times.append(float(out[0]))
        modules = int(out[1])
    return statistics.median(times), modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    results = {name: measure(statement, args.runs) for name, statement in CASES.items()}
    base = results["core dependencies"][0]
    print(f"median of {args.runs} fresh interpreters each")
    for name, (seconds, modules) in results.items():
        print(
            f"{name:30} {seconds * 1000:7.1f} ms  {seconds / base:5.2f}x  "
            f"{modules:3} cloudrate modules"
        )
    ratio = results["import cloudrate"][0] / base
    verdict = "meets" if ratio <= BOUND else "MISSES"
    print(f"import cloudrate / core dependencies: {ratio:.2f}x ({verdict} the {BOUND}x bound)")


if __name__ == "__main__":
    main()
