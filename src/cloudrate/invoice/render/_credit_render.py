"""Render a :class:`~cloudrate.invoice.CreditNote` as PDF (Typst) and HTML (Jinja2).

The PDF comes from ``templates/credit_note.typ`` (the invoice's look: seller, customer,
the number, the invoice credited, the lines, taxes, total and reason), typeset with the
same fonts and compiler settings as invoices, so CJK names print and the same note
gives the same bytes. ``pdf_standard="a-3b"`` writes the PDF/A-3b a Factur-X credit
note needs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudrate.exceptions import CloudrateError

from ._credit_context import credit_note_context
from ._fonts import font_directories, font_families
from ._format import LocaleError, check_locale
from ._render import (
    _LOCK,
    PdfStandard,
    RenderError,
    _compiler,
    _environment,
    _standards,
    _template_dir,
    formatted_with,
)
from ._seller import Seller

if TYPE_CHECKING:
    from cloudrate.invoice import CreditNote

__all__ = ["render_credit_note_html", "render_credit_note_pdf"]


def _locale_of(note: CreditNote, locale: str | None) -> str:
    """*locale*, else the customer's; a renderer never guesses one."""
    chosen = locale or note.customer.locale
    if not chosen:
        raise LocaleError(
            f"no locale for credit note {note.number}: pass locale='de_DE' (or another) "
            "or set the customer's locale"
        )
    check_locale(chosen)
    return chosen


def _context(
    note: CreditNote,
    locale: str,
    seller: Seller | None,
    labels: Mapping[str, str] | None,
    decimals: int | None,
) -> dict[str, Any]:
    context = credit_note_context(
        note, locale=locale, seller=seller, labels=labels, decimals=decimals
    )
    context["formatted_with"] = formatted_with()
    return context


def render_credit_note_pdf(
    note: CreditNote,
    locale: str | None = None,
    *,
    seller: Seller | None = None,
    labels: Mapping[str, str] | None = None,
    decimals: int | None = None,
    template: str | Path | None = None,
    font_paths: Sequence[str | Path] = (),
    font_families_first: Sequence[str] = (),
    system_fonts: bool = False,
    pdf_standard: PdfStandard | None = None,
) -> bytes:
    """The credit note as PDF bytes, typeset by Typst from ``templates/credit_note.typ``.

    *locale*, the fonts, *template* and *pdf_standard* work as in
    :func:`~cloudrate.invoice.render.render_pdf`; *labels* may change any invoice label
    and the credit note's own (``credit_note``, ``credits_invoice``, ``reason``...).
    *decimals* is how many decimals amounts show (default: the currency's). The PDF's
    date is the issue date: the same note and options give the same bytes.

    Raises:
        LocaleError: for no locale or one Babel does not know.
        OptionError: for a *pdf_standard* not in :data:`PDF_STANDARDS`.
        RenderError: when Typst fails (the message has Typst's diagnostics).
    """
    standards = _standards(pdf_standard)
    locale = _locale_of(note, locale)
    context = _context(note, locale, seller, labels, decimals)
    context["fonts"] = [*font_families_first, *font_families()]
    context["lang"] = locale.replace("-", "_").split("_", 1)[0].lower()
    paths = tuple(str(p) for p in (*font_paths, *font_directories()))
    source = str(template) if template is not None else str(_template_dir() / "credit_note.typ")
    compiler = _compiler(source, paths, system_fonts)
    data = json.dumps(context, ensure_ascii=False, sort_keys=True)
    stamp = int(datetime.combine(note.issued_on, time(0), tzinfo=UTC).timestamp())
    try:
        with _LOCK:  # one Typst world per template: compile one document at a time
            pdf = compiler.compile(
                format="pdf", sys_inputs={"data": data}, timestamp=stamp, **standards
            )
    except Exception as exc:
        raise RenderError(
            f"Typst could not typeset credit note {note.number} with {source}: {exc}"
        ) from exc
    return bytes(pdf)


def render_credit_note_html(
    note: CreditNote,
    locale: str | None = None,
    template_dir: str | Path | None = None,
    *,
    seller: Seller | None = None,
    labels: Mapping[str, str] | None = None,
    decimals: int | None = None,
    template: str = "credit_note.html",
) -> str:
    """The credit note as an HTML page, from the Jinja2 template *template* (autoescaped;
    a host's *template_dir* comes first, as for :func:`render_html`)."""
    locale = _locale_of(note, locale)
    context = _context(note, locale, seller, labels, decimals)
    env = _environment(None if template_dir is None else str(template_dir))
    try:
        return str(env.get_template(template).render(**context))
    except Exception as exc:  # a host template's error, with its name
        if isinstance(exc, CloudrateError):
            raise
        raise RenderError(f"template {template!r} failed: {type(exc).__name__}: {exc}") from exc
