"""Invoices: assemble rated bills into invoices, tax, number, pay, credit and export them.

>>> from cloudrate import load_plan, rate, read_usage, sample_plan_path, sample_usage_path
>>> from cloudrate.invoice import Customer, TaxRate, assemble
>>> result = rate(load_plan(sample_plan_path()), read_usage(sample_usage_path()))
>>> invoice = assemble(result, Customer(id="acme", name="ACME GmbH", country="DE"),
...                    taxes=TaxRate(percent="19"))
>>> invoice.total == invoice.subtotal + invoice.tax_total
True
"""

from cloudrate._sheets import neutralise

from ._assemble import EmptyBill, assemble, assemble_all
from ._credit import credit_taxes
from ._credit_note import CreditNote
from ._export import SCHEMA
from ._frame import invoices_to_pandas
from ._from_dict import credit_note_from_dict, invoice_from_dict, invoice_from_json
from ._invoice import Invoice
from ._model import Customer, InvoiceLine, Payment, TaxLine, TaxRate, TimelineEvent
from ._numbering import InMemorySequenceStore, Numbering, SequenceStore, SQLiteSequenceStore
from ._states import STATES, InvoiceState, InvoiceStatus
from ._stats import FILTERS, InvoiceFilter, InvoiceStats, filter_invoices, invoice_stats
from ._tables import TableLayout, rows, write_csv, write_xlsx
from ._tax_rules import EU_COUNTRIES, REVERSE_CHARGE, FlatTax, RegionalTax, TaxRule
from ._taxes import TaxMethod, apply_taxes
from ._terms import DueOnReceipt, EndOfMonth, Net, PaymentTerms

# Rendering (HTML, PDF): Jinja2 and Typst are imported only when a renderer runs.
from .render import LocaleError, RenderError, Seller, render_html, render_pdf, render_pdfs

__all__ = [
    "EU_COUNTRIES",
    "FILTERS",
    "REVERSE_CHARGE",
    "SCHEMA",
    "STATES",
    "CreditNote",
    "Customer",
    "DueOnReceipt",
    "EmptyBill",
    "EndOfMonth",
    "FlatTax",
    "InMemorySequenceStore",
    "Invoice",
    "InvoiceFilter",
    "InvoiceLine",
    "InvoiceState",
    "InvoiceStats",
    "InvoiceStatus",
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
    "TableLayout",
    "TaxLine",
    "TaxMethod",
    "TaxRate",
    "TaxRule",
    "TimelineEvent",
    "apply_taxes",
    "assemble",
    "assemble_all",
    "credit_note_from_dict",
    "credit_taxes",
    "filter_invoices",
    "invoice_from_dict",
    "invoice_from_json",
    "invoice_stats",
    "invoices_to_pandas",
    "neutralise",
    "render_html",
    "render_pdf",
    "render_pdfs",
    "rows",
    "write_csv",
    "write_xlsx",
]
