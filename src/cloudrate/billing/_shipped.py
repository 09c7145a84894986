"""Invoices written where the lines are, numbered and stored by the driver.

A distributed billing run's workers build their group's lines with the columnar kernel
and write each invoice's JSON document from the templates :meth:`BillingRun.bill_table`
uses (:class:`~._fast._Writer`), without its number: the body cut where the number goes,
the event's data, the billed rows' texts. They send them as bytes: one UTF-8 text and a
few integer arrays, not pickled objects (:func:`write_group`). The driver puts the
groups' lines in account order and bills them as ``bill_table`` does
(:func:`~._fast.bill_written`: one read of what the period billed, customers whose
documents bill the same left alone, corrections through the object path, *batch*
customers per transaction, one block of numbers a batch), taking each new invoice's
rows from what the workers wrote and filling in its number (:func:`bill_shipped`). The
stored rows are those ``bill_table`` stores, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

from cloudrate.invoice import Customer, Numbering, PaymentTerms, TaxMethod

from ._fast import Unnumbered, _Rates, _Rows, _Writer, bill_written

if TYPE_CHECKING:  # pragma: no cover
    from cloudrate.rating.columnar.lines import LineColumns

    from ._run import BillingRun
    from ._summary import RunSummary

__all__ = ["Issue", "bill_shipped", "write_group"]


@attrs.frozen(kw_only=True)
class Issue:
    """What a worker needs to write a run's invoices (pickled to each worker): the
    run's numbering, terms and tenant, the issue date and the taxes."""

    numbering: Numbering
    terms: PaymentTerms
    tenant: str
    day: date
    taxes: _Rates
    tax_method: TaxMethod


def write_group(issue: Issue, lines: LineColumns, customers: Mapping[str, Customer]) -> bytes:
    """On a worker: the invoices of *lines*' bills without their numbers, as bytes.

    The texts (every invoice's total, body pieces and event data, then every billed
    row's amount, then its quantity) travel as one UTF-8 text, NUL between them: none of
    them holds a NUL (JSON writes it ``\\u0000``; amounts and quantities are decimal
    text), and one decode and one split on the driver cost a fraction of reading them
    one by one. Account names, which may hold anything, travel apart; each billed row's
    charge as its index in the plan."""
    import numpy as np

    from cloudrate.rating.distributed import dumps, paused_gc

    with paused_gc():
        writer = _Writer(issue, lines, customers, issue.taxes, issue.tax_method, issue.day)
        writer.prepare()  # refuses what assembling refuses, before anything is stored
        invoices = writer.unnumbered(range(len(lines.accounts)))
        texts: list[str] = []
        amounts: list[str] = []
        quantities: list[str] = []
        charges: list[int] = []
        counts = np.zeros(len(invoices), dtype=np.int64)
        for j, invoice in enumerate(invoices):
            texts.extend(invoice[1:6])
            lo, hi = invoice[9], invoice[10]
            charges.extend(invoice[6][lo:hi])
            amounts.extend(invoice[7][lo:hi])
            quantities.extend(invoice[8][lo:hi])
            counts[j] = hi - lo
        text = "\x00".join([*texts, *amounts, *quantities]).encode()
        return dumps(
            (
                [invoice[0] for invoice in invoices],
                counts.tobytes(),
                np.array(charges, dtype=np.int64).tobytes(),
                text,
            )
        )


def _read_group(data: bytes) -> list[Unnumbered]:
    """The invoices :func:`write_group` wrote."""
    import numpy as np

    from cloudrate.rating.distributed import loads

    accounts, counts_bytes, charge_bytes, text = loads(data)
    if not accounts:
        return []
    counts = np.frombuffer(counts_bytes, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)]).tolist()
    charges = np.frombuffer(charge_bytes, dtype=np.int64).tolist()
    fields = text.decode().split("\x00")
    n, m = len(accounts), starts[-1]
    assert len(fields) == 5 * n + 2 * m, "write_group's texts hold no NUL"
    amounts, quantities = fields[5 * n : 5 * n + m], fields[5 * n + m :]
    return [
        (name, *fields[5 * j : 5 * j + 5], charges, amounts, quantities, starts[j], starts[j + 1])
        for j, name in enumerate(accounts)
    ]


class _Shipped(_Writer):
    """A writer whose new invoices were written on the workers: only numbered here."""

    invoices: Sequence[Unnumbered]

    def rows(self, bills: Sequence[int], first: int) -> _Rows:
        invoices = self.invoices
        return self.numbered([invoices[i] for i in bills], first)


def bill_shipped(
    run: BillingRun,
    parts: Sequence[tuple[LineColumns, bytes]],
    *,
    customers: Mapping[str, Customer],
    issue: Issue,
    batch: int,
) -> RunSummary:
    """Bill the groups' *parts* (each a group's lines and what :func:`write_group` wrote
    of them), as ``bill_table`` bills the lines of all their accounts."""
    from cloudrate.rating.columnar.lines import join_lines
    from cloudrate.rating.distributed import paused_gc

    with paused_gc():
        lines, rank = join_lines([p[0] for p in parts])
        writer = _Shipped(run, lines, customers, issue.taxes, issue.tax_method, issue.day)
        invoices: list[Any] = [None] * len(lines.accounts)
        offset = 0
        for part, data in parts:
            at = rank[offset : offset + len(part.accounts)].tolist()
            for i, invoice in zip(at, _read_group(data), strict=True):
                invoices[i] = invoice
            offset += len(part.accounts)
        writer.invoices = invoices
        return bill_written(run, writer, batch)
