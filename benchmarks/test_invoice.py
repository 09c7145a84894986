"""Benchmarks: a 1,000-line invoice assembled, taxed, finalised and exported.

Run with ``python -m pytest benchmarks --benchmark-enable``.
"""

from __future__ import annotations

import io
from datetime import date

from moneyed import Money

from cloudrate import AccountBill, BillingPeriod, RatedLine
from cloudrate.invoice import (
    Customer,
    InMemorySequenceStore,
    Net,
    Numbering,
    TaxRate,
    assemble,
    write_csv,
)

LINES = tuple(
    RatedLine.adjustment(
        account="acme",
        charge=f"vm-{i}",
        description=f"VM {i}",
        amount=Money(f"{i}.125", "EUR"),
        rounded=Money(f"{i}.13", "EUR"),
        kind="charge",
    )
    for i in range(1000)
)
BILL = AccountBill(
    account="acme", lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
).with_lines(LINES)
ACME = Customer(id="acme", name="ACME GmbH", country="DE")
PERIOD = BillingPeriod.month(2026, 10)


def _invoice():
    return assemble(BILL, ACME, PERIOD, taxes=TaxRate(percent="19"))


def test_assemble_1k_lines(benchmark):
    invoice = benchmark(_invoice)
    assert len(invoice.lines) == 1000


def test_finalise_and_json_1k_lines(benchmark):
    def run():
        inv = _invoice().finalise(
            Numbering(), InMemorySequenceStore(), issued_on=date(2026, 11, 1), terms=Net(30)
        )
        return inv.to_json()

    assert "INV-2026-0001" in benchmark(run)


def test_csv_1k_lines(benchmark):
    invoice = _invoice()
    benchmark(lambda: write_csv([invoice], io.StringIO()))
