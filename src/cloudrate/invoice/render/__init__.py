"""Render invoices as HTML (Jinja2) and PDF (Typst), localised with Babel.

Jinja2 and Typst are imported only when a renderer runs. See docs/rendering.md.
"""

from ._batch import render_pdfs
from ._context import invoice_context
from ._credit_context import credit_note_context, credit_note_labels
from ._credit_render import render_credit_note_html, render_credit_note_pdf
from ._figure import Figure
from ._fonts import font_directories, font_families, latin_family
from ._format import Formatter, LocaleError, check_locale
from ._labels import labels_for
from ._render import RenderError, render_html, render_pdf
from ._seller import Seller

__all__ = [
    "Figure",
    "Formatter",
    "LocaleError",
    "RenderError",
    "Seller",
    "check_locale",
    "credit_note_context",
    "credit_note_labels",
    "font_directories",
    "font_families",
    "invoice_context",
    "labels_for",
    "latin_family",
    "render_credit_note_html",
    "render_credit_note_pdf",
    "render_html",
    "render_pdf",
    "render_pdfs",
]
