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
from ._invoice import STATES, CreditNote, Invoice
from ._model import Customer, InvoiceLine, Payment, TaxLine, TaxRate
from ._taxes import EU_COUNTRIES, REVERSE_CHARGE, FlatTax, RegionalTax, TaxRule, apply_taxes

__all__ = [
    "EU_COUNTRIES",
    "REVERSE_CHARGE",
    "STATES",
    "CreditNote",
    "Customer",
    "FlatTax",
    "Invoice",
    "InvoiceLine",
    "Payment",
    "RegionalTax",
    "TaxLine",
    "TaxRate",
    "TaxRule",
    "apply_taxes",
    "assemble",
    "assemble_all",
]

# Rendering (HTML, PDF): Jinja2 and Typst are imported only when a renderer runs.
from .render import LocaleError, RenderError, Seller, render_html, render_pdf

__all__ += ["LocaleError", "RenderError", "Seller", "render_html", "render_pdf"]
