"""The ``cloudrate bill`` command: run a period's billing into a document store.

Rates the period's whole usage, bills every customer exactly once (the period's invoice,
then supplementary invoices and credit notes for late or corrected usage), and writes each
document's file, named by its number, atomically. The issue date is given or derived from
the period; nothing reads the clock, so two runs write the same bytes. Rerunning issues
nothing new; a run killed at any moment is completed by the next.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, get_args

import click
import yaml

from cloudrate.billing import (
    BillingRun,
    DocumentStore,
    RunSummary,
    StoredDocument,
    load_billing_customers,
    open_store,
)
from cloudrate.exceptions import BillingError
from cloudrate.invoice import (
    CreditNote,
    EmptyBill,
    Invoice,
    Net,
    Numbering,
    TaxMethod,
    TaxRate,
    write_csv,
    write_xlsx,
)
from cloudrate.invoice.render import Seller
from cloudrate.period import BillingPeriod
from cloudrate.plans import Plan, load_plan
from cloudrate.rating import RatingResult, rate

from . import _batch
from ._einvoice import (
    EINVOICE_FORMATS,
    EInvoiceSettings,
    check_documents,
    einvoice_file,
    load_seller,
    load_settings,
)
from ._files import document_filename, write_atomic
from ._invoice import (
    FORMATS,
    Format,
    batch_renderer,
    load_customers,
    renderer,
    seller_option,
    with_seller,
)
from ._options import InputPath, json_option, usage_option
from ._streams import STREAM, UsageFormat, UsageInput, open_usage, read_records

__all__ = ["USAGE_FORMATS", "bill_command", "write_documents"]

#: The usage ``bill`` reads.
USAGE_FORMATS: tuple[UsageFormat, ...] = ("csv", "jsonl", "parquet", "cloudstack")


def _rated(plan: Plan, source: UsageInput, period: str) -> RatingResult:
    chosen = BillingPeriod.parse(period, plan.timezone)
    if source.fmt == "parquet" or (
        source.fmt != "cloudstack" and _batch.wants_batch(source.path, None)
    ):
        return _batch.rate_batch(plan, source.path, chosen, False)
    return rate(plan, read_records(source), chosen)


def _plans(paths: tuple[Path, ...]) -> dict[str, Plan]:
    plans: dict[str, Plan] = {}
    for path in paths:
        plan = load_plan(path)
        if plan.name in plans:
            raise BillingError(
                f"--plan {path}: another plan is also named {plan.name!r}; subscriptions "
                "name plans, so give each plan its own name"
            )
        plans[plan.name] = plan
    return plans


def _has_subscriptions(path: Path | None) -> bool:
    """Whether the customers file is the subscriptions form (a ``customers:`` list)."""
    if path is None:
        return False
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False  # the details reader reports what is wrong
    return isinstance(data, dict) and isinstance(data.get("customers"), list)


def _document_bytes(
    document: StoredDocument, fmt: Format, locale: str | None, seller: Seller | None = None
) -> tuple[str, Any]:
    """The file suffix and content of one document in *fmt*; credit notes are JSON."""
    if fmt == "json" or document.kind == "credit_note":
        # The store keeps compact JSON; files are indented for people, as `invoice` writes.
        return "json", json.dumps(json.loads(document.body), indent=2) + "\n"
    invoice = document.invoice()
    function = with_seller(renderer(fmt), seller)
    kwargs = {"locale": locale} if locale else {}
    return fmt, function(invoice, **kwargs)


def _tables(invoices: list[Invoice], fmt: Format, out: Path) -> list[Path]:
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        if fmt == "csv":
            pairs = [("invoices.csv", "lines"), ("invoices-summary.csv", "summary")]
            for name, layout in pairs:
                write_csv(invoices, Path(tmp) / name, layout)  # type: ignore[arg-type]
                write_atomic(out / name, (Path(tmp) / name).read_bytes())
            return [out / name for name, _ in pairs]
        write_xlsx(invoices, Path(tmp) / "invoices.xlsx")
        write_atomic(out / "invoices.xlsx", (Path(tmp) / "invoices.xlsx").read_bytes())
        return [out / "invoices.xlsx"]


def write_documents(
    store: DocumentStore,
    summary: RunSummary,
    out: Path,
    fmt: Format,
    *,
    tenant: str = "default",
    locale: str | None = None,
    seller: Seller | None = None,
    einvoices: EInvoiceSettings | None = None,
) -> list[Path]:
    """Write the files of every document of the run's customers and period into *out*.

    One file per document, named by its number; a file that exists already is complete
    (files are replaced atomically) and, documents being immutable, right: it is kept.
    So a rerun after a crash writes exactly the files the crash left unwritten. ``csv``
    and ``xlsx`` write the period's invoices as tables, plus the credit notes as JSON.
    An e-invoice format (with *einvoices*, its settings) writes every document, credit
    notes included, in that format. *seller* is printed on PDF and HTML invoices.
    """
    out.mkdir(parents=True, exist_ok=True)
    documents = [
        d
        for o in summary.outcomes
        for d in store.documents(tenant=tenant, customer=o.customer, period=o.period)
    ]
    if einvoices is not None:
        return _write_einvoices(store, documents, out, einvoices, locale, tenant)
    written: list[Path] = []
    per_document = fmt in ("json", "pdf", "html")
    batch = batch_renderer() if fmt == "pdf" else None
    if batch is not None:
        batch = with_seller(batch, seller)
    pdfs: list[tuple[Path, StoredDocument]] = []
    for d in documents:
        if not per_document and d.kind != "credit_note":
            continue
        suffix = "json" if fmt == "json" or d.kind == "credit_note" else fmt
        path = out / document_filename(d.number, f".{suffix}")
        if not path.exists():
            if batch is not None and suffix == "pdf":
                pdfs.append((path, d))
            else:
                _, data = _document_bytes(d, fmt, locale, seller)
                write_atomic(path, data)
        written.append(path)
    if batch is not None and pdfs:
        # Only the missing PDFs, rendered in a pool of warm compilers, in order.
        kwargs = {"locale": locale} if locale else {}
        rendered = batch((d.invoice() for _, d in pdfs), **kwargs)
        for (path, _), data in zip(pdfs, rendered, strict=True):
            write_atomic(path, data)
    if not per_document:
        invoices = [d.invoice() for d in documents if d.kind != "credit_note"]
        written = _tables(invoices, fmt, out) + written
    return written


def _as_einvoice_document(
    store: DocumentStore, document: StoredDocument, by_number: dict[str, Invoice], tenant: str
) -> Invoice | CreditNote:
    """The invoice, or the credit note with the customer and period of the invoice it
    credits (the period's invoice, *refers_to*)."""
    if document.kind != "credit_note":
        invoice = document.invoice()
        by_number[document.number] = invoice
        return invoice
    original = by_number.get(document.refers_to or "")
    if original is None:
        stored = store.document(document.refers_to or "", tenant=tenant)
        if stored is None:
            raise BillingError(
                f"credit note {document.number}: the invoice it credits, "
                f"{document.refers_to!r}, is not in the store; the store is damaged"
            )
        original = stored.invoice()
    return document.credit_note(original.customer, original)


def _write_einvoices(
    store: DocumentStore,
    documents: list[StoredDocument],
    out: Path,
    settings: EInvoiceSettings,
    locale: str | None,
    tenant: str,
) -> list[Path]:
    """Every document as an e-invoice, all checked before the first file is written; a
    file that exists already is kept (documents are immutable)."""
    by_number: dict[str, Invoice] = {}
    docs = [_as_einvoice_document(store, d, by_number, tenant) for d in documents]
    check_documents(docs, settings, locale=locale)
    written = []
    for stored, doc in zip(documents, docs, strict=True):
        file_suffix, data, note = einvoice_file(doc, settings, locale)
        path = out / document_filename(stored.number, file_suffix)
        if note is not None:
            click.echo(note, err=True)
        if not path.exists():
            write_atomic(path, data)
        written.append(path)
    return written


def _summary_text(summary: RunSummary) -> str:
    issued = summary.issued
    return (
        f"period {summary.period}: {len(summary.outcomes)} customer(s) billed; issued "
        f"{issued['invoice']} invoice(s), {issued['supplementary']} supplementary "
        f"invoice(s), {issued['credit_note']} credit note(s); {summary.unchanged} "
        f"unchanged; {summary.duplicates_dropped} duplicate record(s) dropped, "
        f"{summary.corrections_applied} correction(s) applied"
        + _unbilled_text(summary.unbilled_accounts)
    )


def _unbilled_text(accounts: tuple[str, ...], shown: int = 10) -> str:
    """The summary's warning for usage of accounts no customer bills ('' for none)."""
    if not accounts:
        return ""
    names = ", ".join(accounts[:shown]) + (", ..." if len(accounts) > shown else "")
    return (
        f"\nnot billed: usage of {len(accounts)} account(s) with no customer in "
        f"--customers, or no subscription in force in the period: {names}; add them to "
        "the customers file, or give them a subscription, to bill them"
    )


@click.command(name="bill")
@click.option("--period", required=True, help="Billing period: 2026-10, or 2026-10-01..2026-10-15.")
@click.option(
    "--plan",
    "plan_paths",
    required=True,
    multiple=True,
    type=InputPath(),
    help="Plan file (YAML); repeat for several, each known by its name.",
)
@usage_option(USAGE_FORMATS)
@click.option(
    "--customers",
    "customers_path",
    type=InputPath(),
    help="YAML: a customers list with subscriptions (docs/subscriptions.md), or a mapping "
    "of account id -> name, address, tax_id, country, locale, email, einvoice.",
)
@seller_option
@click.option(
    "--store",
    "store_location",
    required=True,
    help="Document store: an SQLite file (billing.db) or a postgresql:// URL.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Write every document of the period here, named by its number; - writes them "
    "to standard output as JSON lines (--format json only; the summary then goes to stderr).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="json",
    show_default=True,
    help="json, csv, xlsx, pdf, html, or an e-invoice format (ubl, cii, xrechnung, "
    "xrechnung-cii, peppol, facturx; needs --seller): the format of the --out files.",
)
@click.option(
    "--issued-on",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Issue date of new documents [default: the day the period ends].",
)
@json_option
@click.option("--tax-rate", help="One VAT rate in percent for every line, e.g. 19.")
@click.option(
    "--tax-method", type=click.Choice(get_args(TaxMethod)), default="total", show_default=True
)
@click.option("--empty", type=click.Choice(get_args(EmptyBill)), default="zero", show_default=True)
@click.option("--net-days", type=int, default=30, show_default=True, help="Payment terms.")
@click.option("--template", default="INV-{year}-{seq:04}", show_default=True)
@click.option("--credit-template", default="CN-{year}-{seq:04}", show_default=True)
@click.option("--tenant", default="default", show_default=True, help="Sequence tenant.")
@click.option("--locale", help="Locale passed to the PDF/HTML renderer, e.g. de_DE.")
def bill_command(
    period: str,
    plan_paths: tuple[Path, ...],
    usage_name: str,
    usage_fmt: UsageFormat | None,
    customers_path: Path | None,
    seller_path: Path | None,
    store_location: str,
    out_dir: Path | None,
    fmt: Format,
    issued_on: datetime | None,
    as_json: bool,
    tax_rate: str | None,
    tax_method: TaxMethod,
    empty: EmptyBill,
    net_days: int,
    template: str,
    credit_template: str,
    tenant: str,
    locale: str | None,
) -> None:
    """Bill a period exactly once: issue what the usage calls for and nothing twice."""
    to_stream = out_dir is not None and str(out_dir) == STREAM
    if to_stream and fmt != "json":
        raise click.BadParameter(
            f"--out - writes the documents as JSON lines; --format {fmt} writes files: give "
            "a directory, or --format json",
            param_hint="'--out'",
        )
    plans = _plans(plan_paths)
    subscribed = _has_subscriptions(customers_path)
    if not subscribed and len(plans) > 1:
        raise BillingError(
            "several --plan files need a --customers file whose subscriptions say who "
            "is on which plan (docs/subscriptions.md)"
        )
    if fmt in ("pdf", "html"):
        renderer(fmt)
    einvoices = None
    if out_dir is not None and not to_stream and fmt in EINVOICE_FORMATS:
        # Read (and refused) before anything is issued.
        einvoices = load_settings(fmt, seller_path, customers_path)
    seller = load_seller(seller_path)[0] if seller_path and einvoices is None else None
    store = open_store(store_location)
    try:
        run = BillingRun(
            store=store,
            numbering=Numbering(template),
            credit_numbering=Numbering.credit_notes(credit_template),
            terms=Net(net_days),
            tenant=tenant,
        )
        day: date | None = None if issued_on is None else issued_on.date()
        taxes = None if tax_rate is None else TaxRate(percent=tax_rate)
        with open_usage(usage_name, usage_fmt, USAGE_FORMATS) as source:
            if subscribed and customers_path is not None:
                first = next(iter(plans.values()))
                summary = run.bill_customers(
                    load_billing_customers(customers_path, plans),
                    plans,
                    read_records(source),
                    BillingPeriod.parse(period, first.timezone),
                    issued_on=day,
                    taxes=taxes,
                    tax_method=tax_method,
                )
            else:
                summary = run.bill(
                    _rated(next(iter(plans.values())), source, period),
                    issued_on=day,
                    customers=load_customers(customers_path) if customers_path else {},
                    taxes=taxes,
                    tax_method=tax_method,
                    empty=empty,
                )
        files: list[Path] = []
        if to_stream:
            _stream_documents(store, summary, tenant)
        elif out_dir is not None:
            files = write_documents(
                store,
                summary,
                out_dir,
                fmt,
                tenant=tenant,
                locale=locale,
                seller=seller if einvoices is None else einvoices.seller,
                einvoices=einvoices,
            )
    finally:
        store.close()
    if as_json:
        data = summary.to_dict()
        data["files"] = [str(p) for p in files]
        click.echo(json.dumps(data, indent=2), err=to_stream)
    else:
        click.echo(_summary_text(summary), err=to_stream)
        for path in files:
            click.echo(str(path))


def _stream_documents(store: DocumentStore, summary: RunSummary, tenant: str) -> None:
    """Every document of the run's customers and period on standard output, one JSON
    document (as the store keeps it) per line."""
    out: Any = click.open_file("-", "wb")
    for outcome in summary.outcomes:
        for document in store.documents(
            tenant=tenant, customer=outcome.customer, period=outcome.period
        ):
            out.write((document.body.rstrip("\n") + "\n").encode("utf-8"))
    out.flush()
