"""``--out -``: documents written to standard output, where one stream can hold them.

``invoice --out -`` writes JSON lines (each invoice's JSON on one line, the same document
``to_json()`` gives, unindented), one XLSX workbook, or the PDF or HTML of exactly one
invoice. CSV is two tables and several PDFs or HTML pages are several files: those are
refused before any invoice is numbered.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import click

from cloudrate.invoice import Invoice, write_xlsx

__all__ = ["check_stream", "write_stream"]


def check_stream(fmt: str, count: int) -> None:
    """Refuse *fmt* on standard output when *count* invoices cannot share it.

    >>> check_stream("json", 3), check_stream("pdf", 1)
    (None, None)
    >>> check_stream("pdf", 2)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: --format pdf writes one file per invoice and this run \
has 2 invoices: write them to a directory, or choose one with --customer
    """
    if fmt == "csv":
        raise click.BadParameter(
            "--format csv writes two tables (invoices.csv and invoices-summary.csv): "
            "write them to a directory, or use --format json (JSON lines) on standard output",
            param_hint="'--out'",
        )
    if fmt in ("pdf", "html") and count != 1:
        raise click.BadParameter(
            f"--format {fmt} writes one file per invoice and this run has {count} invoices: "
            "write them to a directory, or choose one with --customer",
            param_hint="'--out'",
        )


def write_stream(
    drafts: Sequence[Invoice],
    fmt: str,
    document: Callable[[Invoice], bytes],
    finalise: Callable[[Invoice], Invoice] | None,
) -> None:
    """Write *drafts* (each finalised first, when *finalise*) to standard output in *fmt*;
    *document* gives one invoice's PDF or HTML bytes."""
    out: Any = click.open_file("-", "wb")
    invoices = [draft if finalise is None else finalise(draft) for draft in drafts]
    if fmt == "json":
        for invoice in invoices:
            out.write((invoice.to_json(indent=None) + "\n").encode("utf-8"))
    elif fmt == "xlsx":
        book = io.BytesIO()
        write_xlsx(invoices, book)
        out.write(book.getvalue())
    else:
        out.write(document(invoices[0]))
    out.flush()
