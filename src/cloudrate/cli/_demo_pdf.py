"""``cloudrate demo``'s PDF step: the sample invoices, each in its customer's locale."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import click

from cloudrate.invoice.render import render_pdf
from cloudrate.portal.charts import Chart, consumption_chart
from cloudrate.portal.usage_view import DateRange, usage_view
from cloudrate.rating import RatingResult
from cloudrate.usage import UsageRecord, read_usage

from ._einvoice_demo import demo_format, write_demo_einvoices
from ._files import write_atomic
from ._render_demo import DEMO_LOCALES, DEMO_SELLER, demo_invoices
from .samples import sample_usage_path

__all__ = ["write_demo_pdfs"]


def _installed(module: str) -> bool:
    """Whether the optional *module* imports (it is imported here, when the demo needs it)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def write_demo_pdfs(result: RatingResult, out_dir: Path, *, err: bool = False) -> list[Path]:
    """Write one PDF invoice per account of *result* into *out_dir*; return the paths.

    Without the ``pdf`` extra, says how to install it and writes nothing. A consumption
    chart is added when the ``charts`` extra is installed. Under ``demo --format`` an
    e-invoice format, writes the e-invoices instead (:func:`write_demo_einvoices`).
    """
    fmt = demo_format()
    if fmt != "pdf":
        return write_demo_einvoices(result, out_dir, fmt, err=err)  # type: ignore[arg-type]
    if not _installed("typst"):
        click.echo(
            "note: install cloudrate[pdf] to also write the sample invoices as PDF "
            "(pip install 'cloudrate[pdf]')",
            err=True,
        )
        return []
    charts_ok = _installed("vl_convert")
    usage = read_usage(sample_usage_path()) if charts_ok else []
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for account, invoice in demo_invoices(result).items():
        charts = [_consumption(result, usage, account)] if charts_ok else []
        path = out_dir / f"{invoice.number}.pdf"
        write_atomic(
            path,
            render_pdf(
                invoice, DEMO_LOCALES.get(account, "en_US"), seller=DEMO_SELLER, charts=charts
            ),
        )
        written.append(path)
        click.echo(f"wrote {path} ({invoice.customer.name}, {invoice.number})", err=err)
    return written


def _consumption(result: RatingResult, usage: Sequence[UsageRecord], account: str) -> Chart:
    """*account*'s consumption chart over the days of *result*'s period."""
    period = result.period
    last = (period.end - timedelta(microseconds=1)).astimezone(period.tz).date()
    span = DateRange.custom(period.start.astimezone(period.tz).date(), last, period.timezone)
    view = usage_view(result.plan, usage, account=account, date_range=span)
    return consumption_chart(view)
