"""Render many invoices as PDF at once: :func:`render_pdfs`, warm Typst compilers in a
process pool, each PDF byte for byte what :func:`render_pdf` gives for it alone.

One Typst compile holds the GIL for its whole ~10 ms, so threads do not help; processes
do. Each worker keeps its compiler (template parsed, fonts loaded) from one invoice to
the next. Workers are forked when this process runs a single thread (nothing to copy
but Python), else started by the ``forkserver``: forking a process whose Typst already
runs its thread pool would hang the child. See docs/rendering.md.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudrate.exceptions import CloudrateError, OptionError

from ._format import LocaleError
from ._render import PdfStandard, RenderError, _standards, render_pdf
from ._seller import Seller

if TYPE_CHECKING:
    from cloudrate.invoice import Invoice

__all__ = ["render_pdfs"]

#: Fewer invoices than this are rendered in this process when *workers* is not given:
#: starting a pool and warming its compilers costs about what 30 renders do.
POOL_FROM = 32

_Outcome = bytes | CloudrateError


def _name(invoice: Invoice) -> str:
    return str(invoice.number or invoice.id)


def _render_one(invoice: Invoice, options: Mapping[str, Any]) -> _Outcome:
    """The PDF, or the error to raise in its place, naming the invoice."""
    name = _name(invoice)
    try:
        return render_pdf(invoice, **options)
    except (LocaleError, RenderError) as exc:
        message = str(exc)
        prefixed = message if name in message else f"invoice {name}: {message}"
        return type(exc)(prefixed)
    except Exception as exc:  # any other failure, made picklable, with the invoice's name
        return RenderError(f"invoice {name}: {type(exc).__name__}: {exc}")


def _render_chunk(invoices: list[Invoice], options: dict[str, Any]) -> list[_Outcome]:
    return [_render_one(invoice, options) for invoice in invoices]


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # pragma: no cover - not Linux


def _single_threaded() -> bool:
    """Whether this process runs one thread (Linux); unknown counts as no."""
    try:
        return sum(1 for _ in Path("/proc/self/task").iterdir()) == 1
    except OSError:  # pragma: no cover - not Linux
        return False


def _context(start_method: str | None) -> multiprocessing.context.BaseContext:
    if start_method is None:
        methods = multiprocessing.get_all_start_methods()
        if "fork" in methods and sys.platform == "linux" and _single_threaded():
            start_method = "fork"
        elif "forkserver" in methods:
            start_method = "forkserver"
        else:  # pragma: no cover - Windows
            start_method = "spawn"
    if start_method == "forkserver":
        # The server imports the renderer once; each worker forked from it has it.
        multiprocessing.set_forkserver_preload([__name__])
    return multiprocessing.get_context(start_method)


def _results(outcomes: Iterable[_Outcome]) -> Iterator[bytes]:
    for outcome in outcomes:
        if isinstance(outcome, CloudrateError):
            raise outcome
        yield outcome


def render_pdfs(
    invoices: Iterable[Invoice],
    locale: str | None = None,
    *,
    seller: Seller | None = None,
    now: date | datetime | None = None,
    labels: Mapping[str, str] | None = None,
    template: str | Path | None = None,
    font_paths: Sequence[str | Path] = (),
    font_families_first: Sequence[str] = (),
    system_fonts: bool = False,
    pdf_standard: PdfStandard | None = None,
    workers: int | None = None,
    chunksize: int = 4,
    start_method: str | None = None,
) -> Iterator[bytes]:
    """Each invoice's PDF, in the order given, the same bytes as ``render_pdf(invoice,
    locale, ...)`` with the same options.

    *workers* processes render in parallel, each with its own warm Typst compiler; by
    default one per CPU, and none (this process renders) for fewer than
    :data:`POOL_FROM` invoices. ``workers=1`` renders in this process. Invoices are
    read lazily, at most ``2 * workers * chunksize`` ahead of the PDF yielded, and sent
    to the workers *chunksize* at a time. *start_method* (``"fork"``, ``"forkserver"``,
    ``"spawn"``) overrides the choice described in the module. With ``forkserver`` and
    ``spawn``, a script calling this needs the ``if __name__ == "__main__":`` guard.
    Charts are not taken: render invoices with charts through :func:`render_pdf`.
    *pdf_standard* (``"a-3b"``) works as in :func:`render_pdf`.

    Raises:
        LocaleError: for an invoice without a locale or with one Babel does not know.
        RenderError: when Typst fails. Either names the invoice's number (or id) and is
            raised where that invoice's PDF would have been yielded, after the PDFs
            before it.

    >>> from cloudrate import AccountBill, BillingPeriod, RatedLine
    >>> from cloudrate.invoice import Customer, assemble
    >>> from moneyed import Money
    >>> line = RatedLine.adjustment(account="acme", charge="setup", description="Setup",
    ...     amount=Money("10", "EUR"), rounded=Money("10.00", "EUR"), kind="charge")
    >>> bill = AccountBill(account="acme", lines=(), total=Money(0, "EUR"),
    ...                    exact_total=Money(0, "EUR")).with_lines([line])
    >>> inv = assemble(bill, Customer(id="acme", name="ACME"), BillingPeriod.month(2026, 10))
    >>> pdfs = list(render_pdfs([inv, inv], "de_DE"))
    >>> pdfs[0] == pdfs[1] == render_pdf(inv, "de_DE")
    True

    .. versionadded:: 0.3
    """
    if workers is not None and workers < 1:
        raise OptionError(f"workers must be 1 or more (got {workers})", path="workers")
    if chunksize < 1:
        raise OptionError(f"chunksize must be 1 or more (got {chunksize})", path="chunksize")
    _standards(pdf_standard)  # refused here, before any invoice is read
    options: dict[str, Any] = {
        "locale": locale,
        "seller": seller,
        "now": now,
        "labels": None if labels is None else dict(labels),
        "template": None if template is None else str(template),
        "font_paths": tuple(str(p) for p in font_paths),
        "font_families_first": tuple(font_families_first),
        "system_fonts": system_fonts,
        "pdf_standard": pdf_standard,
    }
    return _generate(iter(invoices), options, workers, chunksize, start_method)


def _generate(
    source: Iterator[Invoice],
    options: dict[str, Any],
    workers: int | None,
    chunksize: int,
    start_method: str | None,
) -> Iterator[bytes]:
    head: list[Invoice] = []
    if workers is None:
        head = list(itertools.islice(source, POOL_FROM))
        workers = 1 if len(head) < POOL_FROM else _cpus()
    invoices = itertools.chain(head, source)
    if workers == 1:
        yield from _results(_render_one(invoice, options) for invoice in invoices)
        return
    yield from _pooled(invoices, options, workers, chunksize, _context(start_method))


def _pooled(
    invoices: Iterator[Invoice],
    options: dict[str, Any],
    workers: int,
    chunksize: int,
    context: multiprocessing.context.BaseContext,
) -> Iterator[bytes]:
    pending: deque[Future[list[_Outcome]]] = deque()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        while True:
            while len(pending) < 2 * workers:
                chunk = list(itertools.islice(invoices, chunksize))
                if not chunk:
                    break
                pending.append(pool.submit(_render_chunk, chunk, options))
            if not pending:
                return
            yield from _results(pending.popleft().result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
