"""Factur-X / ZUGFeRD: a PDF with the CII XML attached, by the ``factur-x`` package.

The PDF given should be PDF/A-3 already (``render_pdf(..., pdf_standard="a-3b")``, what
``to_facturx`` renders): factur-x keeps its output intent and fonts and replaces its XMP
with its own (``pdfaid:part`` 3, conformance B, and the Factur-X extension schema).

``factur-x`` writes the attachment (``factur-x.xml``, relationship ``Data``), the ``/AF``
entry and the PDF/A-3 XMP metadata with the Factur-X extension schema. It stamps the
clock's time into the metadata; cloudrate stamps the issue date instead, so the same
invoice always gives the same bytes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time
from typing import Any

from cloudrate.exceptions import MissingExtraError

from ._edoc import EDocument

__all__ = ["facturx_pdf"]

_LOCK = threading.Lock()


def _module() -> Any:
    try:
        import facturx.facturx as module  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("Factur-X files", "the factur-x package", "einvoice") from None
    return module


@contextmanager
def _stamped(module: Any, when: datetime) -> Iterator[None]:
    """Make factur-x's two clock readings return *when* for the duration of the block."""
    pdf_stamp: Callable[..., str] = module._get_pdf_timestamp
    names = ("_get_pdf_timestamp", "_get_metadata_timestamp")
    saved = {name: getattr(module, name) for name in names}

    def pdf_timestamp(date: datetime | None = None) -> str:
        return pdf_stamp(when if date is None else date)

    def metadata_timestamp() -> str:
        return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    with _LOCK:
        module._get_pdf_timestamp = pdf_timestamp
        module._get_metadata_timestamp = metadata_timestamp
        try:
            yield
        finally:
            for name, value in saved.items():
                setattr(module, name, value)


def facturx_pdf(pdf: bytes, xml: bytes, doc: EDocument, *, seller: str, lang: str | None) -> bytes:
    """*pdf* with *xml* embedded as Factur-X EN 16931, metadata from *doc*."""
    module = _module()
    kind = "Invoice" if doc.kind == "invoice" else "Credit note"
    metadata = {
        "author": seller,
        "keywords": f"Factur-X, {kind}",
        "title": f"{seller}: {kind} {doc.number}",
        "subject": f"Factur-X {kind.lower()} {doc.number} dated {doc.issued_on.isoformat()} "
        f"issued by {seller}",
    }
    when = datetime.combine(doc.issued_on, time(0), tzinfo=UTC)
    # factur-x logs every step at INFO on its own logger; keep a host's logs quiet.
    logger = logging.getLogger("factur-x")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        with _stamped(module, when):
            out = module.generate_from_binary(
                pdf,
                xml,
                flavor="factur-x",
                level="en16931",
                check_xsd=True,
                pdf_metadata=metadata,
                lang=None if lang is None else lang.replace("_", "-"),
            )
    finally:
        logger.setLevel(level)
    return bytes(out)
