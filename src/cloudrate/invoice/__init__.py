"""Invoices: assemble rated bills into invoices, tax, number, pay, credit and export them.

>>> from cloudrate import load_plan, rate, read_usage, sample_plan_path, sample_usage_path
>>> from cloudrate.invoice import Customer, TaxRate, assemble
>>> result = rate(load_plan(sample_plan_path()), read_usage(sample_usage_path()))
>>> invoice = assemble(result, Customer(id="acme", name="ACME GmbH", country="DE"),
...                    taxes=TaxRate(percent="19"))
>>> invoice.total == invoice.subtotal + invoice.tax_total
True
"""

from ._assemble import assemble, assemble_all
from ._export import SCHEMA, invoice_from_dict, invoice_from_json
from ._frame import invoices_to_pandas
from ._invoice import STATES, CreditNote, Invoice
from ._model import Customer, InvoiceLine, Payment, TaxLine, TaxRate, TimelineEvent
from ._numbering import InMemorySequenceStore, Numbering, SequenceStore, SQLiteSequenceStore
from ._stats import FILTERS, InvoiceStats, filter_invoices, invoice_stats
from ._tables import neutralise, rows, write_csv, write_xlsx
from ._taxes import EU_COUNTRIES, REVERSE_CHARGE, FlatTax, RegionalTax, TaxRule, apply_taxes
from ._terms import DueOnReceipt, EndOfMonth, Net, PaymentTerms

# Rendering (HTML, PDF): Jinja2 and Typst are imported only when a renderer runs.
from .render import LocaleError, RenderError, Seller, render_html, render_pdf

__all__ = [
    "EU_COUNTRIES",
    "FILTERS",
    "REVERSE_CHARGE",
    "SCHEMA",
    "STATES",
    "CreditNote",
    "Customer",
    "DueOnReceipt",
    "EndOfMonth",
    "FlatTax",
    "InMemorySequenceStore",
    "Invoice",
    "InvoiceLine",
    "InvoiceStats",
    "LocaleError",
    "Net",
    "Numbering",
    "Payment",
    "PaymentTerms",
    "RegionalTax",
    "RenderError",
    "SQLiteSequenceStore",
    "Seller",
    "SequenceStore",
    "TaxLine",
    "TaxRate",
    "TaxRule",
    "TimelineEvent",
    "apply_taxes",
    "assemble",
    "assemble_all",
    "filter_invoices",
    "invoice_from_dict",
    "invoice_from_json",
    "invoice_stats",
    "invoices_to_pandas",
    "neutralise",
    "render_html",
    "render_pdf",
    "rows",
    "write_csv",
    "write_xlsx",
]
