"""E-invoices from the command line: ``invoice``, ``bill`` and ``demo`` with ``--format
ubl|cii|xrechnung|xrechnung-cii|peppol|facturx``, every file validated against the official
artefacts (the validator of tests/invoice/einvoice), the errors for missing data, ``--out -``,
and the PDF/A-3b the Factur-X files are made from."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from tests.invoice.einvoice.conftest import Validator

from cloudrate import sample_plan_path, sample_usage_path
from cloudrate.cli import main
from cloudrate.cli._einvoice_demo import BUYER_DETAILS, BUYER_REFERENCES, SELLER_DETAILS
from cloudrate.cli._render_demo import DEMO_SELLER, demo_customers, demo_invoices
from cloudrate.exceptions import OptionError
from cloudrate.invoice.einvoice import FORMATS, PartyDetails

facturx = pytest.importorskip("facturx", reason="e-invoices need cloudrate[einvoice]")
pypdf = pytest.importorskip("pypdf")
pytest.importorskip("typst", reason="Factur-X files hold the invoice PDF: cloudrate[pdf]")

EFORMATS = list(FORMATS)


@pytest.fixture(name="validator", scope="module")
def _validator(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    return Validator(tmp_path_factory.mktemp("einvoice-artefacts"))


def _party(details: PartyDetails) -> dict[str, Any]:
    """*details* as the ``einvoice:`` section of a file (the form docs/einvoices.md shows)."""
    out: dict[str, Any] = {}
    if details.address is not None:
        a = details.address
        out["address"] = {"street": list(a.street), "postcode": a.postcode, "city": a.city,
                          "country": a.country}  # fmt: skip
    if details.electronic_address is not None:
        e = details.electronic_address
        out["electronic_address"] = {"scheme": e.scheme, "value": e.value}
    if details.contact is not None:
        c = details.contact
        out["contact"] = {"name": c.name, "phone": c.phone, "email": c.email}
    return out


def _write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(name="files", scope="module")
def _files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo's seller and customers as the CLI reads them, with their e-invoice details."""
    folder = tmp_path_factory.mktemp("einvoice-files")
    seller = {**DEMO_SELLER.to_dict(), "einvoice": _party(SELLER_DETAILS)}
    customers = {
        account: {
            "name": c.name,
            "address": list(c.address),
            "country": c.country,
            "tax_id": c.tax_id,
            "locale": c.locale,
            "einvoice": {
                "buyer_reference": BUYER_REFERENCES[account],
                **_party(BUYER_DETAILS[account]),
            },
        }
        for account, c in demo_customers().items()
    }
    bare = {a: {k: v for k, v in c.items() if k != "einvoice"} for a, c in customers.items()}
    return {
        "seller": _write_yaml(folder / "seller.yaml", seller),
        "customers": _write_yaml(folder / "customers.yaml", customers),
        "bare": _write_yaml(folder / "bare.yaml", bare),
    }


def _run(*args: str, input: bytes | None = None) -> Any:  # noqa: A002 - click's name
    return CliRunner().invoke(main, list(args), input=input)


def _invoice(
    files: dict[str, Path], tmp: Path, *args: str, customers: str = "customers"
) -> list[str]:
    """``cloudrate invoice`` of the sample month, 19% VAT, numbered from *tmp*/seq.db."""
    return [
        "invoice", "--plan", str(sample_plan_path()), "--usage", str(sample_usage_path()),
        "--period", "2026-10", "--customers", str(files["customers"]), "--seller",
        str(files["seller"]), "--tax-rate", "19", "--sequence-db", str(tmp / "seq.db"),
        "--issued-on", "2026-11-01", *args,
    ]  # fmt: skip


def _xml_of(path: Path) -> tuple[bytes, str]:
    """The XML of an e-invoice file (a Factur-X PDF's attachment) and its kind."""
    data = path.read_bytes()
    if path.suffix == ".pdf":
        name, data = facturx.get_xml_from_pdf(data, check_xsd=False)
        assert name == "factur-x.xml"
    credit = b"<CreditNote " in data or b"<ram:TypeCode>381</ram:TypeCode>" in data
    kind = "credit_note" if credit else "invoice"
    return data, kind


def _assert_valid(validator: Validator, fmt: str, path: Path) -> None:
    xml, kind = _xml_of(path)
    assert [str(f) for f in validator.validate(xml, fmt, kind)] == [], path.name


class TestInvoice:
    @pytest.mark.parametrize("fmt", EFORMATS)
    def test_each_format_writes_files_that_validate(self, files, validator, tmp_path, fmt):
        result = _run(*_invoice(files, tmp_path, "--format", fmt, "--out", str(tmp_path / "o"),
                                "--json"))  # fmt: skip
        assert result.exit_code == 0, result.output
        written = [Path(p) for p in json.loads(result.stdout)["files"]]
        suffix = ".pdf" if fmt == "facturx" else ".xml"
        assert [p.name for p in written] == [f"INV-2026-000{i}{suffix}" for i in (1, 2, 3)]
        for path in written:
            _assert_valid(validator, fmt, path)

    def test_the_seller_file_is_printed_and_carried(self, files, tmp_path):
        """The seller's VAT id and Peppol id come from --seller, the buyer's Leitweg-ID
        and endpoint from the customer's einvoice: section."""
        _run(*_invoice(files, tmp_path, "--format", "peppol", "--out", str(tmp_path / "o")))
        xml = (tmp_path / "o" / "INV-2026-0001.xml").read_bytes()
        assert b'<cbc:EndpointID schemeID="9930">DE123456789</cbc:EndpointID>' in xml
        assert b"<cbc:BuyerReference>04011000-12345-34</cbc:BuyerReference>" in xml
        assert b'schemeID="9930">DE811128135</cbc:EndpointID>' in xml

    def test_the_seller_file_is_printed_on_pdf_invoices_too(self, files, tmp_path):
        command = _invoice(files, tmp_path, "--format", "pdf", "--out", "-", "--customer", "acme")
        at = command.index("--sequence-db")
        result = _run(*command[:at], *command[at + 4 :])
        assert result.exit_code == 0, result.stderr
        text = pypdf.PdfReader(io.BytesIO(result.stdout_bytes)).pages[0].extract_text()
        assert "Example Cloud GmbH" in text
        assert "DE123456789" in text

    def test_facturx_is_a_pdf_a_3b_that_prints_the_seller(self, files, tmp_path):
        _run(*_invoice(files, tmp_path, "--format", "facturx", "--out", str(tmp_path / "f")))
        pdf = (tmp_path / "f" / "INV-2026-0001.pdf").read_bytes()
        _assert_pdf_a_3b(pdf)
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        assert "INV-2026-0001" in reader.pages[0].extract_text()
        assert "Example Cloud GmbH" in reader.pages[0].extract_text()

    def test_missing_data_is_named_in_its_file_and_nothing_is_numbered(self, files, tmp_path):
        out = str(tmp_path / "o")
        command = _invoice(files, tmp_path, "--format", "xrechnung", "--out", out, "--json")
        command[command.index("--customers") + 1] = str(files["bare"])
        result = _run(*command)
        assert result.exit_code == 2
        assert result.stdout == ""
        error = json.loads(result.stderr)
        assert error["code"] == "invalid_document"
        found = {(p["path"], p["code"]) for p in error["problems"]}
        for account in ("acme", "globex", "initech"):
            assert (f"{account}.einvoice.buyer_reference", "einvoice_missing") in found
            assert (f"{account}.einvoice.electronic_address", "einvoice_missing") in found
        assert {p["source"] for p in error["problems"]} == {str(files["bare"])}
        assert not (tmp_path / "o").exists()
        # Nothing was numbered: the complete run gets the first numbers.
        again = _run(*_invoice(files, tmp_path, "--format", "xrechnung", "--out",
                               str(tmp_path / "o"), "--json"))  # fmt: skip
        assert again.exit_code == 0, again.output
        first = json.loads(again.stdout)["files"][0]
        assert Path(first).name == "INV-2026-0001.xml"

    def test_without_seller_or_numbering_it_is_refused(self, files, tmp_path):
        command = _invoice(files, tmp_path, "--format", "ubl", "--out", str(tmp_path), "--json")
        at = command.index("--seller")
        no_seller = _run(*command[:at], *command[at + 2 :])
        assert no_seller.exit_code == 2
        assert "give --seller" in json.loads(no_seller.stderr)["message"]
        at = command.index("--sequence-db")
        draft = _run(*command[:at], *command[at + 4 :])
        assert draft.exit_code == 2
        assert "give --sequence-db and --issued-on" in json.loads(draft.stderr)["message"]

    def test_a_bad_seller_file_lists_every_problem(self, files, tmp_path):
        seller = yaml.safe_load(files["seller"].read_text(encoding="utf-8"))
        seller["einvoice"]["electronic_address"]["scheme"] = "99"
        seller["einvoice"]["address"]["country"] = "Germany"
        seller["einvoice"]["fax"] = "+49 30 1"
        bad = _write_yaml(tmp_path / "seller.yaml", seller)
        command = _invoice(files, tmp_path, "--format", "ubl", "--out", str(tmp_path), "--json")
        command[command.index("--seller") + 1] = str(bad)
        result = _run(*command)
        assert result.exit_code == 2
        problems = json.loads(result.stderr)["problems"]
        assert {(p["path"], p["code"]) for p in problems} == {
            ("einvoice.electronic_address", "bad_value"),
            ("einvoice.address", "bad_value"),
            ("einvoice.fax", "unknown_key"),
        }
        assert not (tmp_path / "seq.db").exists()

    def test_numbers_in_yaml_stay_text(self, files, tmp_path):
        """``scheme: 0204`` unquoted is the EAS code 0204, not YAML 1.1's octal 132."""
        text = files["seller"].read_text(encoding="utf-8")
        text = re.sub(r"scheme: '9930'", "scheme: 0204", text)
        text = re.sub(r"value: DE123456789", "value: 991-12345-67", text, count=1)
        seller = tmp_path / "seller.yaml"
        seller.write_text(text, encoding="utf-8")
        command = _invoice(files, tmp_path, "--format", "xrechnung", "--out", str(tmp_path / "o"))
        command[command.index("--seller") + 1] = str(seller)
        assert _run(*command).exit_code == 0
        xml = (tmp_path / "o" / "INV-2026-0001.xml").read_bytes()
        assert b'<cbc:EndpointID schemeID="0204">991-12345-67</cbc:EndpointID>' in xml


class TestStandardOutput:
    def test_one_invoice_to_stdout_is_the_file(self, files, tmp_path):
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        piped = _run(*_invoice(files, tmp_path / "a", "--format", "xrechnung", "--out", "-",
                               "--customer", "globex"))  # fmt: skip
        assert piped.exit_code == 0, piped.stderr
        _run(*_invoice(files, tmp_path / "b", "--format", "xrechnung", "--out",
                       str(tmp_path / "o"), "--customer", "globex"))  # fmt: skip
        assert piped.stdout_bytes == (tmp_path / "o" / "INV-2026-0001.xml").read_bytes()

    def test_several_invoices_are_refused_before_numbering(self, files, tmp_path):
        result = _run(*_invoice(files, tmp_path, "--format", "facturx", "--out", "-"))
        assert result.exit_code == 2
        assert "this run has 3 invoices" in result.stderr
        assert result.stdout == ""

    def test_bill_and_demo_refuse_it(self, files, tmp_path):
        bill = _run(*_bill_command(files, tmp_path / "b.db", sample_usage_path()),
                    "--out", "-", "--format", "ubl")  # fmt: skip
        assert bill.exit_code == 2
        assert "--format json" in bill.stderr
        demo = _run("demo", "--format", "ubl", "--out", "-")
        assert demo.exit_code == 2


def _bill_command(files: dict[str, Path], store: Path, usage: Path) -> list[str]:
    return [
        "bill", "--period", "2026-10", "--plan", str(sample_plan_path()), "--usage", str(usage),
        "--store", str(store), "--customers", str(files["customers"]), "--seller",
        str(files["seller"]), "--tax-rate", "19",
    ]  # fmt: skip


def _usage(tmp: Path, extra_hours: int) -> Path:
    """The sample usage plus one late vCPU record of *extra_hours*."""
    with sample_usage_path().open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    vcpu = next(r for r in rows if r["metric"] == "vcpu_hours")
    path = tmp / f"usage-{extra_hours}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([*rows, dict(vcpu, record_id="late-1", quantity=str(extra_hours))])
    return path


@pytest.fixture(name="billed", scope="module")
def _billed(files, tmp_path_factory) -> tuple[Path, Path]:
    """A store holding a period's three invoices, a supplementary invoice (late usage) and
    a credit note (the late usage corrected down), and the usage of the last run."""
    tmp = tmp_path_factory.mktemp("billed")
    store = tmp / "b.db"
    for usage in (sample_usage_path(), _usage(tmp, 100), _usage(tmp, 10)):
        result = _run(*_bill_command(files, store, usage), "--json")
        assert result.exit_code == 0, result.output
    issued = json.loads(result.stdout)["issued"]
    assert issued == {"invoice": 0, "supplementary": 0, "credit_note": 1}
    return store, _usage(tmp, 10)


class TestBill:
    @pytest.mark.parametrize("fmt", EFORMATS)
    def test_every_document_in_the_format(self, files, billed, validator, tmp_path, fmt):
        store, usage = billed
        out = tmp_path / "out"
        result = _run(*_bill_command(files, store, usage), "--out", str(out), "--format", fmt,
                      "--json")  # fmt: skip
        assert result.exit_code == 0, result.output
        names = sorted(Path(p).name for p in json.loads(result.stdout)["files"])
        suffix = ".pdf" if fmt == "facturx" else ".xml"
        invoices = [f"INV-2026-000{i}{suffix}" for i in (1, 2, 3, 4)]
        assert names == sorted([f"CN-2026-0001{suffix}", *invoices])  # Factur-X: a PDF
        assert sorted(p.name for p in out.iterdir()) == names
        for name in names:
            _assert_valid(validator, fmt, out / name)
        supplementary, _ = _xml_of(out / f"INV-2026-0004{suffix}")
        note, kind = _xml_of(out / f"CN-2026-0001{suffix}")
        assert kind == "credit_note"
        assert b"INV-2026-0001" in supplementary  # it supplements the period's invoice
        assert b"INV-2026-0004" in note  # it credits the supplementary that billed it
        if fmt == "facturx":  # the credit note's own PDF, PDF/A-3b like the invoices'
            _assert_pdf_a_3b((out / "CN-2026-0001.pdf").read_bytes())
            text = pypdf.PdfReader(out / "CN-2026-0001.pdf").pages[0].extract_text()
            assert "CN-2026-0001" in text
            assert "INV-2026-0004" in text
            assert "credit note" not in result.stderr

    def test_missing_seller_is_refused_before_anything_is_issued(self, files, tmp_path):
        command = _bill_command(files, tmp_path / "b.db", sample_usage_path())
        at = command.index("--seller")
        result = _run(*command[:at], *command[at + 2 :], "--out", str(tmp_path), "--format",
                      "cii", "--json")  # fmt: skip
        assert result.exit_code == 2
        assert "give --seller" in json.loads(result.stderr)["message"]
        assert not (tmp_path / "b.db").exists()


class TestDemo:
    @pytest.mark.parametrize("fmt", EFORMATS)
    def test_three_invoices_and_a_credit_note(self, validator, tmp_path, fmt):
        result = _run("demo", "--format", fmt, "--out", str(tmp_path), "--json")
        assert result.exit_code == 0, result.output
        suffix = ".pdf" if fmt == "facturx" else ".xml"
        names = sorted(p.name for p in tmp_path.iterdir())
        invoices = [f"INV-2026-00{n}{suffix}" for n in (42, 43, 44)]
        assert names == sorted([*invoices, f"CN-2026-0001{suffix}"])
        for name in names:
            _assert_valid(validator, fmt, tmp_path / name)
        json.loads(result.stdout)  # the bills, as without --format

    def test_facturx_pdfs_are_in_each_customers_locale(self, tmp_path):
        _run("demo", "--format", "facturx", "--out", str(tmp_path))
        texts = {
            n: pypdf.PdfReader(tmp_path / f"INV-2026-00{n}.pdf").pages[0].extract_text()
            for n in (42, 43, 44)
        }
        assert "Rechnung" in texts[42]
        assert "Facture" in texts[43]
        assert "株式会社イニテック" in texts[44]
        for n in (42, 43, 44):
            _assert_pdf_a_3b((tmp_path / f"INV-2026-00{n}.pdf").read_bytes())
        note = pypdf.PdfReader(tmp_path / "CN-2026-0001.pdf").pages[0].extract_text()
        assert "Gutschrift" in note  # ACME's credit note, in ACME's locale (de_DE)
        assert "INV-2026-0042" in note
        _assert_pdf_a_3b((tmp_path / "CN-2026-0001.pdf").read_bytes())


def _xmp(pdf: bytes) -> tuple[Any, bytes]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    return root, root["/Metadata"].get_object().get_data()


def _assert_pdf_a_3b(pdf: bytes) -> None:
    """The PDF declares PDF/A-3b: XMP pdfaid part 3, conformance B, and a PDF/A output
    intent with its ICC profile."""
    root, xmp = _xmp(pdf)
    assert re.search(rb"<pdfaid:part>\s*3\s*</pdfaid:part>", xmp)
    assert re.search(rb"<pdfaid:conformance>\s*B\s*</pdfaid:conformance>", xmp)
    intents = [o.get_object() for o in root["/OutputIntents"]]
    assert [i["/S"] for i in intents] == ["/GTS_PDFA1"]
    assert intents[0]["/DestOutputProfile"].get_object().get_data()[36:40] == b"acsp"  # ICC


@pytest.fixture(name="invoice", scope="module")
def _initech_invoice() -> Any:
    """The demo's invoice with a Japanese customer name (CJK fonts embedded)."""
    import cloudrate

    result = cloudrate.rate(
        cloudrate.load_plan(sample_plan_path()), cloudrate.read_usage(sample_usage_path())
    )
    return demo_invoices(result)["initech"]


class TestPdfA:
    def test_a_3b_is_declared(self, invoice):
        from cloudrate.invoice.render import render_pdf

        _assert_pdf_a_3b(render_pdf(invoice, "ja_JP", seller=DEMO_SELLER, pdf_standard="a-3b"))

    def test_the_default_is_plain_pdf_as_before(self, invoice):
        """No standard: no output intent, no PDF/A id; the same bytes as asking for none."""
        from cloudrate.invoice.render import render_pdf

        plain = render_pdf(invoice, "ja_JP", seller=DEMO_SELLER)
        assert plain == render_pdf(invoice, "ja_JP", seller=DEMO_SELLER, pdf_standard=None)
        root, xmp = _xmp(plain)
        assert "/OutputIntents" not in root
        assert b"pdfaid" not in xmp
        archived = render_pdf(invoice, "ja_JP", seller=DEMO_SELLER, pdf_standard="a-3b")
        assert archived != plain

    def test_render_pdfs_passes_it_on(self, invoice):
        from cloudrate.invoice.render import render_pdf, render_pdfs

        one = render_pdf(invoice, "ja_JP", pdf_standard="a-3b")
        assert list(render_pdfs([invoice], "ja_JP", pdf_standard="a-3b", workers=1)) == [one]

    @pytest.mark.parametrize("standard", ["a-2b", "A-3B", "pdf/a-3b", ""])
    def test_other_standards_are_refused(self, invoice, standard):
        from cloudrate.invoice.render import render_pdf, render_pdfs

        with pytest.raises(OptionError, match="a-3b"):
            render_pdf(invoice, "ja_JP", pdf_standard=standard)
        with pytest.raises(OptionError, match="a-3b"):
            render_pdfs([invoice], pdf_standard=standard)
