"""The ``cloudrate invoice`` command: rate a usage file and write its invoices."""

from __future__ import annotations

import functools
import importlib
import inspect
import io
import json
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, get_args

import click
import yaml

from cloudrate.exceptions import InvoiceError
from cloudrate.invoice import (
    Customer,
    EmptyBill,
    Invoice,
    Net,
    Numbering,
    SQLiteSequenceStore,
    TableLayout,
    TaxMethod,
    TaxRate,
    assemble_all,
    write_csv,
    write_xlsx,
)
from cloudrate.invoice.einvoice import Format as EInvoiceFormat
from cloudrate.invoice.render import Seller
from cloudrate.period import BillingPeriod
from cloudrate.plans import load_plan
from cloudrate.rating import rate

from ._accounts import check_accounts
from ._einvoice import (
    EINVOICE_FORMATS,
    EInvoiceSettings,
    check_documents,
    check_one,
    einvoice_file,
    load_seller,
    load_settings,
    write_einvoices,
)
from ._files import DocumentFiles, document_filename
from ._options import InputPath, json_option, plan_option, usage_option
from ._stdout import check_stream, write_stream
from ._streams import STREAM, UsageFormat, open_usage, read_records

__all__ = [
    "FORMATS",
    "Format",
    "batch_renderer",
    "invoice_command",
    "load_customers",
    "renderer",
    "seller_option",
]

#: What ``--format`` writes: one file per invoice (json, pdf, html), tables (csv, xlsx),
#: or one e-invoice per invoice (ubl, cii, xrechnung, xrechnung-cii, peppol, facturx).
DocumentFormat = Literal["json", "csv", "xlsx", "pdf", "html"]
Format = DocumentFormat | EInvoiceFormat
FORMATS: tuple[Format, ...] = (*get_args(DocumentFormat), *EINVOICE_FORMATS)

#: ``--seller PATH``: who issues the documents (printed on PDF and HTML; required by the
#: e-invoice formats), passed as ``seller_path``.
seller_option = click.option(
    "--seller",
    "seller_path",
    type=InputPath(),
    help="YAML/JSON: the seller (name, address, tax_id, email, website, payment_details, "
    "and an einvoice: section); printed on PDF/HTML, required by the e-invoice formats.",
)
PROGRESS_FROM = 20
#: The usage ``invoice`` reads (record by record).
USAGE_FORMATS: tuple[UsageFormat, ...] = ("csv", "jsonl", "cloudstack")


def load_customers(path: Path) -> dict[str, Customer]:
    """Customers from a YAML or JSON mapping of account id to name, address (a list of postal
    lines in print order; a mapping such as ``{street: ..., city: ...}`` is refused), tax_id,
    country, locale and email; an ``einvoice`` section is for the e-invoice formats."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InvoiceError(f"{path}: not YAML or JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InvoiceError(f"{path}: expected a mapping of account id to customer details")
    out = {}
    for account, fields in data.items():
        if not isinstance(fields, dict):
            raise InvoiceError(
                f"{path}: {account}: expected a mapping such as {{name: ACME GmbH, country: DE}}"
            )
        # The einvoice: section is read by the e-invoice formats (cli/_einvoice.py).
        clean = {
            k: (str(v) if v is not None and k != "address" else v)
            for k, v in fields.items()
            if k != "einvoice"
        }
        unknown = set(clean) - {"name", "address", "tax_id", "country", "locale", "email"}
        if unknown:
            raise InvoiceError(f"{path}: {account}: unknown field(s) {', '.join(sorted(unknown))}")
        try:
            out[str(account)] = Customer(id=str(account), **{"name": str(account), **clean})
        except InvoiceError as exc:  # e.g. an address given as a mapping, not a list of lines
            raise InvoiceError(f"{path}: {account}: {exc}") from None
    return out


def renderer(fmt: str) -> Callable[..., Any]:
    """``render_pdf``/``render_html`` from :mod:`cloudrate.invoice.render`, or a clear error."""
    try:
        module = importlib.import_module("cloudrate.invoice.render")
    except ModuleNotFoundError as exc:
        if exc.name != "cloudrate.invoice.render":
            raise InvoiceError(
                f"--format {fmt} needs {exc.name}, which is not installed; "
                "install cloudrate's rendering extra"
            ) from None
        raise InvoiceError(
            f"--format {fmt} needs the invoice renderer "
            "(cloudrate.invoice.render), which this version of cloudrate does "
            "not have; use --format json, csv or xlsx"
        ) from None
    function: Callable[..., Any] | None = getattr(module, f"render_{fmt}", None)
    if function is None:
        raise InvoiceError(
            f"cloudrate.invoice.render has no render_{fmt}; use --format json, csv or xlsx"
        )
    return function


def _render(function: Callable[..., Any], invoice: Invoice, locale: str | None) -> Any:
    params = inspect.signature(function).parameters
    kwargs = {"locale": locale} if locale and "locale" in params else {}
    return function(invoice, **kwargs)


def _document(
    invoice: Invoice, fmt: Format, function: Callable[..., Any] | None, locale: str | None
) -> bytes:
    """The bytes of *invoice*'s file: its JSON, or what the renderer gives."""
    if function is None:
        return (invoice.to_json() + "\n").encode("utf-8")
    data = _render(function, invoice, locale)
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    raise InvoiceError(f"render_{fmt} returned {type(data).__name__}, expected bytes or text")


def _tables(invoices: tuple[Invoice, ...], fmt: Format, files: DocumentFiles) -> None:
    if fmt == "csv":
        layouts: tuple[tuple[str, TableLayout], ...] = (
            ("invoices.csv", "lines"),
            ("invoices-summary.csv", "summary"),
        )
        for name, layout in layouts:
            text = io.StringIO(newline="")
            write_csv(invoices, text, layout)
            files.put(name, text.getvalue().encode("utf-8"))
    else:
        raw = io.BytesIO()
        write_xlsx(invoices, raw)
        files.put("invoices.xlsx", raw.getvalue())


def with_seller(function: Callable[..., Any], seller: Seller | None) -> Callable[..., Any]:
    """*function* (a renderer) printing *seller*, or *function* itself without one."""
    return function if seller is None else functools.partial(function, seller=seller)


def _write(
    drafts: tuple[Invoice, ...],
    fmt: Format,
    out: Path,
    locale: str | None,
    finalise: Callable[[Invoice], Invoice] | None,
    seller: Seller | None = None,
) -> list[Path]:
    """Write the invoices, finalising each (*finalise*) just before its own file is written,
    so a run killed midway leaves at most one number without its file; a rerun gets the
    same numbers back and writes what is missing."""
    function = with_seller(renderer(fmt), seller) if fmt in ("pdf", "html") else None
    out.mkdir(parents=True, exist_ok=True)
    files = DocumentFiles(out)
    if fmt in ("csv", "xlsx"):
        _tables(drafts if finalise is None else tuple(map(finalise, drafts)), fmt, files)
        return files.written
    # A bar for runs that take more than a moment: many invoices, or any PDF/HTML run.
    hidden = len(drafts) < (2 if function is not None else PROGRESS_FROM)
    batch = batch_renderer() if fmt == "pdf" else None
    if batch is not None:
        batch = with_seller(batch, seller)
    with click.progressbar(
        drafts,
        label=f"Writing {len(drafts)} invoice(s)",
        file=io.StringIO() if hidden else sys.stderr,
        show_pos=True,
    ) as bar:
        if batch is not None:
            _write_batch(bar, batch, files, locale, finalise)
            return files.written
        for draft in bar:
            invoice = draft if finalise is None else finalise(draft)
            name = document_filename(invoice.number or invoice.id, f".{fmt}")
            files.put(name, _document(invoice, fmt, function, locale), issued=invoice.number)
    return files.written


def batch_renderer() -> Callable[..., Iterator[bytes]] | None:
    """``render_pdfs`` (PDFs in a pool of warm compilers), or None when the renderer has
    none, which then renders one by one."""
    module = importlib.import_module("cloudrate.invoice.render")
    function: Callable[..., Iterator[bytes]] | None = getattr(module, "render_pdfs", None)
    return function


def _write_batch(
    drafts: Iterable[Invoice],
    render: Callable[..., Iterator[bytes]],
    files: DocumentFiles,
    locale: str | None,
    finalise: Callable[[Invoice], Invoice] | None,
) -> None:
    """Write the PDFs of *drafts* through *render*. Drafts are finalised as the renderer
    reads them, a few ahead of the files written, so a run killed midway leaves only
    those few numbers without their files (a rerun gets them back)."""
    taken: deque[Invoice] = deque()

    def finalised() -> Iterator[Invoice]:
        for draft in drafts:
            invoice = draft if finalise is None else finalise(draft)
            taken.append(invoice)
            yield invoice

    kwargs = {"locale": locale} if locale else {}
    for data in render(finalised(), **kwargs):
        invoice = taken.popleft()
        name = document_filename(invoice.number or invoice.id, ".pdf")
        files.put(name, data, issued=invoice.number)


def _finaliser(
    sequence_db: Path, template: str, day: date, net_days: int, tenant: str
) -> Callable[[Invoice], Invoice]:
    """Finalise one draft from the sequence file: a draft numbered before (by a run that
    was killed) gets its number back."""
    numbering = Numbering(template)
    sequence_db.parent.mkdir(parents=True, exist_ok=True)
    store = SQLiteSequenceStore(sequence_db)
    terms = Net(net_days)

    def finalise(draft: Invoice) -> Invoice:
        return draft.finalise(numbering, store, issued_on=day, terms=terms, tenant=tenant)

    return finalise


@click.command(name="invoice")
@plan_option
@usage_option(USAGE_FORMATS)
@click.option("--period", required=True, help="Billing period: 2026-10, or 2026-10-01..2026-10-15.")
@click.option(
    "--customer",
    "accounts",
    multiple=True,
    help="Invoice only this account (repeat); one the usage or --customers names.",
)
@click.option(
    "--customers",
    "customers_path",
    type=InputPath(),
    help="YAML/JSON: account id -> name, address, tax_id, country, locale, email, and "
    "einvoice (buyer_reference, address, electronic_address, contact) for e-invoices.",
)
@seller_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="json",
    show_default=True,
    help="json, csv, xlsx, pdf, html, or an e-invoice: ubl, cii, xrechnung, xrechnung-cii, "
    "peppol, facturx (these need --seller and --sequence-db; docs/einvoices.md).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory to write into; - writes standard output: JSON lines (--format json), "
    "an XLSX workbook, or the PDF, HTML or e-invoice of one invoice.",
)
@click.option("--tax-rate", help="One VAT rate in percent for every line, e.g. 19.")
@click.option(
    "--tax-method",
    type=click.Choice(get_args(TaxMethod)),
    default="total",
    show_default=True,
    help="Tax per rate on the total (EN 16931) or per line.",
)
@click.option(
    "--empty",
    type=click.Choice(get_args(EmptyBill)),
    default="zero",
    show_default=True,
    help="Accounts without charges: a zero invoice, or none.",
)
@click.option("--display-decimals", type=int, help="Decimals shown (cost decimal points).")
@click.option(
    "--sequence-db",
    type=click.Path(path_type=Path),
    help="Finalise: number the invoices from this SQLite sequence file.",
)
@click.option(
    "--issued-on",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Issue date when finalising (required with --sequence-db).",
)
@click.option("--net-days", type=int, default=30, show_default=True, help="Payment terms.")
@click.option(
    "--template", default="INV-{year}-{seq:04}", show_default=True, help="Invoice number template."
)
@click.option("--tenant", default="default", show_default=True, help="Sequence tenant.")
@click.option("--locale", help="Locale passed to the PDF/HTML renderer, e.g. de_DE.")
@json_option
def invoice_command(
    plan_path: Path,
    usage_name: str,
    usage_fmt: UsageFormat | None,
    period: str,
    accounts: tuple[str, ...],
    customers_path: Path | None,
    seller_path: Path | None,
    fmt: Format,
    out_dir: Path,
    tax_rate: str | None,
    tax_method: TaxMethod,
    empty: EmptyBill,
    display_decimals: int | None,
    sequence_db: Path | None,
    issued_on: datetime | None,
    net_days: int,
    template: str,
    tenant: str,
    locale: str | None,
    as_json: bool,
) -> None:
    """Rate a usage file for one period and write an invoice per account.

    Prints the files written (with --json, as ``{"files": [...]}``).
    """
    # The click.Choice options give *fmt*, *tax_method* and *empty* their Literal types.
    if sequence_db is not None and issued_on is None:
        raise InvoiceError("--sequence-db finalises the invoices: give --issued-on too")
    settings = None
    if fmt in EINVOICE_FORMATS:
        if sequence_db is None:
            raise InvoiceError(
                f"--format {fmt} writes issued invoices (an e-invoice needs its number BT-1 "
                "and issue date BT-2): give --sequence-db and --issued-on to number them"
            )
        settings = load_settings(fmt, seller_path, customers_path)
    seller = settings.seller if settings else (load_seller(seller_path)[0] if seller_path else None)
    plan = load_plan(plan_path)
    chosen = BillingPeriod.parse(period, plan.timezone)
    customers = load_customers(customers_path) if customers_path else {}
    with open_usage(usage_name, usage_fmt, USAGE_FORMATS) as source:
        usage = read_records(source)
    check_accounts(accounts, {r.account for r in usage} | set(customers))
    result = rate(plan, usage, chosen, accounts=accounts)
    invoices = assemble_all(
        result,
        customers,
        taxes=None if tax_rate is None else TaxRate(percent=tax_rate),
        tax_method=tax_method,
        display_decimals=display_decimals,
        empty=empty,
        accounts=accounts or None,
    )
    finalise = None
    if sequence_db is not None and issued_on is not None:
        finalise = _finaliser(sequence_db, template, issued_on.date(), net_days, tenant)
    if settings is not None and finalise is not None:
        _einvoices(invoices, out_dir, settings, locale, finalise, as_json)
        return
    if str(out_dir) == STREAM:
        check_stream(fmt, len(invoices))
        function = with_seller(renderer(fmt), seller) if fmt in ("pdf", "html") else None
        write_stream(
            invoices, fmt, lambda invoice: _document(invoice, fmt, function, locale), finalise
        )
        return
    written = _write(invoices, fmt, out_dir, locale, finalise, seller)
    _report(written, as_json)


def _report(written: list[Path], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"files": [str(path) for path in written]}, ensure_ascii=False))
        return
    for path in written:
        click.echo(str(path))


def _einvoices(
    drafts: tuple[Invoice, ...],
    out_dir: Path,
    settings: EInvoiceSettings,
    locale: str | None,
    finalise: Callable[[Invoice], Invoice],
    as_json: bool,
) -> None:
    """Check every draft for the e-invoice format (nothing is numbered when one fails),
    then write them into *out_dir*, or the one invoice to standard output."""
    check_documents(drafts, settings, drafts=True, locale=locale)
    if str(out_dir) == STREAM:
        check_one(settings.fmt, len(drafts))
        write_stream(
            drafts,
            "einvoice",
            lambda invoice: einvoice_file(invoice, settings, locale)[1],
            finalise,
        )
        return
    _report(write_einvoices(drafts, out_dir, settings, locale, finalise), as_json)
