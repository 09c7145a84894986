"""Render invoices as HTML (Jinja2) and PDF (Typst), localised with Babel.

Both renderers share one context (:func:`invoice_context`): the same figures, formatted
once. HTML needs ``pip install 'cloudrate[html]'``; PDF needs ``pip install
'cloudrate[pdf]'``, which also installs the fonts (Noto Sans, Noto Sans CJK, Arabic,
Devanagari, Thai) so customer names in any of those scripts print. Why Typst and how
fonts install: docs/rendering.md.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from cloudrate.exceptions import CloudrateError, MissingExtraError, OptionError

from ._context import invoice_context
from ._figure import Figure
from ._fonts import font_directories, font_families
from ._format import LocaleError, check_locale
from ._seller import Seller

if TYPE_CHECKING:
    from cloudrate.invoice import Invoice

__all__ = [
    "PDF_STANDARDS",
    "LocaleError",
    "PdfStandard",
    "RenderError",
    "Seller",
    "render_html",
    "render_pdf",
]

#: The archival standards :func:`render_pdf` can write besides plain PDF 1.7: PDF/A-3b
#: (ISO 19005-3, level B), the container Factur-X / ZUGFeRD e-invoices require.
PdfStandard = Literal["a-3b"]
PDF_STANDARDS: tuple[PdfStandard, ...] = get_args(PdfStandard)


class RenderError(CloudrateError, RuntimeError):
    """A template could not be rendered (a broken host template, a missing font...)."""


def _template_dir() -> Path:
    return Path(str(resources.files("cloudrate.invoice.render") / "templates"))


def formatted_with() -> dict[str, str]:
    """The Babel release and the Unicode CLDR version it ships, which decide how amounts,
    dates and percentages are written. HTML invoices record both in ``<meta
    name="cldr-version">`` and ``<meta name="babel-version">``, PDF invoices in their
    keywords (document info and XMP), so a document can be traced to the data that
    formatted it. Templates get it as ``formatted_with``; :func:`invoice_context` (and the
    invoice's JSON) do not hold it.

    >>> import babel
    >>> formatted_with()["babel"] == babel.__version__
    True
    """
    import babel
    from babel.core import get_cldr_version

    return {"babel": babel.__version__, "cldr": get_cldr_version()}


def _html_context(context: dict[str, Any]) -> dict[str, Any]:
    context["formatted_with"] = formatted_with()
    for chart in context["charts"]:
        chart["data_uri"] = "data:image/svg+xml;base64," + base64.b64encode(
            chart["svg"].encode("utf-8")
        ).decode("ascii")
    return context


@functools.lru_cache(maxsize=8)
def _environment(template_dir: str | None) -> Any:
    try:
        import jinja2
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("HTML invoices", "Jinja2", "html") from None
    loaders: list[Any] = []
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(template_dir))
    loaders.append(jinja2.FileSystemLoader(str(_template_dir())))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,  # every template, whatever its name: customer text is escaped
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _locale_of(invoice: Invoice, locale: str | None) -> str:
    """*locale*, else the customer's; a renderer never guesses one."""
    chosen = locale or invoice.customer.locale
    if not chosen:
        raise LocaleError(
            f"no locale for invoice {invoice.number or invoice.id}: pass "
            "locale='de_DE' (or another) or set the customer's locale"
        )
    check_locale(chosen)
    return chosen


def render_html(
    invoice: Invoice,
    locale: str | None = None,
    template_dir: str | Path | None = None,
    *,
    seller: Seller | None = None,
    now: date | datetime | None = None,
    labels: Mapping[str, str] | None = None,
    charts: Sequence[Figure] = (),
    template: str = "invoice.html",
) -> str:
    """The invoice as an HTML page, from the Jinja2 template *template*.

    *locale* formats numbers, amounts and dates and picks the labels' language; without
    it the customer's locale is used, and without that a :class:`LocaleError` is raised.

    A host overrides the look by putting its own ``invoice.html`` (or a template that
    ``{% extends %}`` the shipped one and replaces blocks) in *template_dir*; shipped
    templates stay available behind it. Autoescaping is always on.

    >>> from cloudrate import AccountBill, BillingPeriod, RatedLine
    >>> from cloudrate.invoice import Customer, assemble
    >>> from moneyed import Money
    >>> line = RatedLine.adjustment(account="acme", charge="setup", description="Setup",
    ...     amount=Money("10", "EUR"), rounded=Money("10.00", "EUR"), kind="charge")
    >>> bill = AccountBill(account="acme", lines=(), total=Money(0, "EUR"),
    ...                    exact_total=Money(0, "EUR")).with_lines([line])
    >>> inv = assemble(bill, Customer(id="acme", name="<b>ACME</b>"),
    ...                BillingPeriod.month(2026, 10))
    >>> page = render_html(inv, locale="fr_FR")
    >>> "&lt;b&gt;ACME&lt;/b&gt;" in page, "10,00\\xa0€" in page
    (True, True)
    """
    locale = _locale_of(invoice, locale)
    context = _html_context(
        invoice_context(
            invoice, locale=locale, seller=seller, now=now, labels=labels, charts=charts
        )
    )
    env = _environment(None if template_dir is None else str(template_dir))
    try:
        return str(env.get_template(template).render(**context))
    except Exception as exc:  # a host template's error, with its name
        if isinstance(exc, CloudrateError):
            raise
        raise RenderError(f"template {template!r} failed: {type(exc).__name__}: {exc}") from exc


# --- PDF ---------------------------------------------------------------------------------

_LOCK = threading.Lock()


@functools.lru_cache(maxsize=8)
def _compiler(template: str, font_paths: tuple[str, ...], system_fonts: bool) -> Any:
    try:
        import typst
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("PDF invoices", "Typst and fonts", "pdf") from None
    return typst.Compiler(
        template, font_paths=list(font_paths), ignore_system_fonts=not system_fonts
    )


def _timestamp(invoice: Invoice) -> int:
    """The PDF's creation date: the issue date, or the period's end for a draft, so the
    bytes never depend on the clock."""
    day = invoice.issued_on or (invoice.period.end.astimezone(UTC).date())
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())


def _standards(pdf_standard: str | None) -> dict[str, list[str]]:
    """Typst's ``pdf_standards`` argument for *pdf_standard*; nothing for plain PDF, so
    the compile call (and its bytes) stay what they were without the option."""
    if pdf_standard is None:
        return {}
    if pdf_standard not in PDF_STANDARDS:
        raise OptionError(
            f"render_pdf pdf_standard: one of {', '.join(map(repr, PDF_STANDARDS))} or None "
            f"for plain PDF (got {pdf_standard!r})",
            path="pdf_standard",
            value=pdf_standard,
        )
    return {"pdf_standards": [pdf_standard]}


def render_pdf(
    invoice: Invoice,
    locale: str | None = None,
    *,
    seller: Seller | None = None,
    now: date | datetime | None = None,
    labels: Mapping[str, str] | None = None,
    charts: Sequence[Figure] = (),
    template: str | Path | None = None,
    font_paths: Sequence[str | Path] = (),
    font_families_first: Sequence[str] = (),
    system_fonts: bool = False,
    pdf_standard: PdfStandard | None = None,
) -> bytes:
    """The invoice as PDF bytes, typeset by Typst from ``templates/invoice.typ``.

    *locale* works as in :func:`render_html` (default: the customer's locale).

    Fonts come from the ``pdf`` extra's packages; *font_paths* adds folders of font
    files (e.g. ``/usr/share/fonts/opentype/noto`` after ``apt-get install
    fonts-noto-cjk``) and *font_families_first* puts their families ahead in the
    fallback list. *system_fonts* lets Typst read the machine's fonts too (output then
    depends on the machine). Same invoice and options, same bytes.

    *pdf_standard* ``"a-3b"`` writes a PDF/A-3b file (XMP metadata with ``pdfaid:part``
    3 and conformance B, an sRGB output intent, every font embedded), which Factur-X
    needs; the default (None) writes plain PDF 1.7, the same bytes as before the option.

    Raises:
        LocaleError: for a locale Babel does not know.
        OptionError: for a *pdf_standard* not in :data:`PDF_STANDARDS`.
        RenderError: when Typst fails (the message has Typst's diagnostics).

    >>> from cloudrate import AccountBill, BillingPeriod, RatedLine
    >>> from cloudrate.invoice import Customer, assemble
    >>> from moneyed import Money
    >>> line = RatedLine.adjustment(account="acme", charge="setup", description="Setup",
    ...     amount=Money("10", "EUR"), rounded=Money("10.00", "EUR"), kind="charge")
    >>> bill = AccountBill(account="acme", lines=(), total=Money(0, "EUR"),
    ...                    exact_total=Money(0, "EUR")).with_lines([line])
    >>> inv = assemble(bill, Customer(id="acme", name="株式会社アクメ", locale="ja_JP"),
    ...                BillingPeriod.month(2026, 10))
    >>> render_pdf(inv)[:8]
    b'%PDF-1.7'
    """
    standards = _standards(pdf_standard)
    locale = _locale_of(invoice, locale)
    context = invoice_context(
        invoice, locale=locale, seller=seller, now=now, labels=labels, charts=charts
    )
    context["fonts"] = [*font_families_first, *font_families()]
    context["formatted_with"] = formatted_with()
    context["lang"] = locale.replace("-", "_").split("_", 1)[0].lower()
    paths = tuple(str(p) for p in (*font_paths, *font_directories()))
    source = str(template) if template is not None else str(_template_dir() / "invoice.typ")
    compiler = _compiler(source, paths, system_fonts)
    data = json.dumps(context, ensure_ascii=False, sort_keys=True)
    try:
        with _LOCK:  # one Typst world per template: compile one document at a time
            pdf = compiler.compile(
                format="pdf",
                sys_inputs={"data": data},
                timestamp=_timestamp(invoice),
                **standards,
            )
    except Exception as exc:
        raise RenderError(f"Typst could not typeset the invoice with {source}: {exc}") from exc
    return bytes(pdf)
