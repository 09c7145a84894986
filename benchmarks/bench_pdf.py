"""PDF invoices: ``render_pdf`` one by one against ``render_pdfs`` with 1 and 2 workers.

    .venv/bin/python benchmarks/bench_pdf.py                 # 200 invoices, best of 3
    .venv/bin/python benchmarks/bench_pdf.py --invoices 400 --repeat 5

Builds N finalised invoices from the sample usage (the three sample accounts, each
invoice its own customer: name, address, locale among de_DE, fr_FR, en_US, ja_JP, and
number), then times, alternating, in each round: the one-by-one loop in this process
(compiler warm), ``render_pdfs(workers=1)`` and ``render_pdfs(workers=2)`` (a fresh pool
each time, its start and warm-up included, reported apart too). Every output is checked
byte for byte against the one-by-one PDFs. Prints invoices/s (best round) and the ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import cloudrate
from cloudrate.invoice import (
    Customer,
    InMemorySequenceStore,
    Invoice,
    Net,
    Numbering,
    TaxRate,
    assemble,
    render_pdf,
    render_pdfs,
)

LOCALES = ("de_DE", "fr_FR", "en_US", "ja_JP")
NAMES = ("ACME GmbH {i}", "Globex SA n°{i}", "Initech Ltd {i}", "株式会社テスト{i}")


def invoices(n: int) -> list[Invoice]:
    """*n* finalised invoices of the sample month, each for its own customer."""
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    result = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
    numbering, store = Numbering("INV-{year}-{seq:05}"), InMemorySequenceStore()
    accounts = [bill.account for bill in result.bills]
    out = []
    for i in range(n):
        customer = Customer(
            id=accounts[i % len(accounts)],
            name=NAMES[i % len(NAMES)].format(i=i),
            address=(f"Street {i}", f"{10000 + i} City"),
            country="DE",
            locale=LOCALES[i % len(LOCALES)],
        )
        draft = assemble(result, customer, taxes=TaxRate(percent="19"))
        out.append(draft.finalise(numbering, store, issued_on=date(2026, 11, 1), terms=Net(14)))
    return out


def _load() -> str:
    return Path("/proc/loadavg").read_text(encoding="ascii").strip()


def _timed(run: Callable[[], list[bytes]]) -> tuple[float, list[bytes]]:
    start = time.perf_counter()
    pdfs = run()
    return time.perf_counter() - start, pdfs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    batch = invoices(args.invoices)
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"load before: {_load()}")

    # The pools of the first round are forked: this process has not run Typst yet.
    start = time.perf_counter()
    list(render_pdfs(batch[:8], workers=2, chunksize=1))
    print(
        f"2-worker pool (fork), start + warm-up on 8 invoices: {time.perf_counter() - start:.2f} s"
    )

    render_pdf(batch[0])  # warm this process's compiler
    reference = [render_pdf(invoice) for invoice in batch]
    runs: dict[str, Callable[[], list[bytes]]] = {
        "render_pdf one by one": lambda: [render_pdf(invoice) for invoice in batch],
        "render_pdfs, workers=1": lambda: list(render_pdfs(batch, workers=1)),
        "render_pdfs, workers=2": lambda: list(render_pdfs(batch, workers=2)),
    }
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(args.repeat):
        for name, run in runs.items():
            seconds, pdfs = _timed(run)
            if pdfs != reference:
                raise SystemExit(f"{name}: bytes differ from the one-by-one render")
            best[name] = min(best[name], seconds)
    base = args.invoices / best["render_pdf one by one"]
    print(f"{args.invoices} invoices, best of {args.repeat}, bytes identical in every run:")
    for name, seconds in best.items():
        rate = args.invoices / seconds
        print(f"  {name:<24} {seconds:6.2f} s  {rate:6.1f} invoices/s  {rate / base:4.2f}x")
    print(f"load after: {_load()}")


if __name__ == "__main__":
    main()
