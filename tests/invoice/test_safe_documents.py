"""Documents are safe for every string: XLSX takes any text, CSV neutralises formulas after
list separators, long names wrap on the PDF, addresses are lines (issue 12, group 3)."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

from cloudrate import AccountBill, BillingPeriod, RatedLine, _sheets
from cloudrate.exceptions import InvoiceError
from cloudrate.invoice import Customer, Invoice, assemble, neutralise, write_csv, write_xlsx

#: Any text at all: NUL, control characters, lone surrogates, U+FFFE, astral characters.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()))
NAMES = ANY_TEXT.filter(lambda s: s.strip() != "")
FORMULA = ("=", "+", "-", "@")
# Where a spreadsheet may start a new cell: its list separator (, or ;), a tab, a line break.
PIECES = re.compile(r"[,;\t\r\n]")
OCTOBER = BillingPeriod.month(2026, 10, "UTC")


def invoice_with(name: str, description: str, address: list[str]) -> Invoice:
    """A one-line draft for a customer called *name* at *address*, the line *description*."""
    line = RatedLine.adjustment(
        account="acme",
        charge="c0",
        description=description,
        amount=Money("12.50", "EUR"),
        rounded=Money("12.50", "EUR"),
        kind="charge",
    )
    empty = AccountBill(
        account="acme", lines=(), total=Money(0, "EUR"), exact_total=Money(0, "EUR")
    )
    customer = Customer(id="acme", name=name, address=address, country="DE")
    return assemble(empty.with_lines([line]), customer, OCTOBER)


def expected_xlsx(text: str) -> str:
    """What an XLSX cell of *text* reads back as: neutralised, then made XML-safe."""
    return _sheets.xlsx_text(neutralise(text))


class TestXlsxText:
    @given(ANY_TEXT)
    def test_only_xml_characters_remain(self, text):
        """Whatever the text, the cell text holds only characters XML 1.0 allows, no CR."""
        safe = _sheets.xlsx_text(text)
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ud800-\udfff\ufffe\uffff]", safe)
        assert len(safe) <= _sheets.XLSX_MAX_CHARS
        safe.encode("utf-8")  # no lone surrogate left

    @given(st.text(st.characters(codec="utf-8", exclude_characters="\r\ufffe\uffff")))
    def test_clean_text_is_kept(self, text):
        """Text without forbidden characters is kept as it is (but for the length limit)."""
        clean = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)
        assert _sheets.xlsx_text(clean) == clean

    def test_replacements(self):
        """NUL, a control character and a lone surrogate each become U+FFFD; CR LF becomes LF."""
        assert _sheets.xlsx_text("A\x00B\x1bC\udc80D\r\nE\rF") == "A\ufffdB\ufffdC\ufffdD\nE\nF"

    def test_cut_at_the_cell_limit(self):
        """Longer text than a cell holds is cut to the limit and ends with an ellipsis."""
        cut = _sheets.xlsx_text("x" * 40_000)
        assert len(cut) == _sheets.XLSX_MAX_CHARS == 32_767 and cut.endswith("x…")


class TestXlsxExport:
    @given(NAMES, ANY_TEXT, st.lists(ANY_TEXT, max_size=3))
    def test_any_text_is_written_and_reads_back(self, name, description, address):
        """Any customer name and line description is written; openpyxl reads it back as
        the neutralised, XML-safe text."""
        buf = io.BytesIO()
        write_xlsx([invoice_with(name, description, address)], buf)
        book = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
        summary = [[c.value for c in row] for row in book["Invoices"].iter_rows()]
        lines = [[c.value for c in row] for row in book["Lines"].iter_rows()]
        at = summary[0].index("customer_name")
        assert summary[1][at] == (expected_xlsx(name) or None)
        at = lines[0].index("description")
        assert lines[1][at] == (expected_xlsx(description) or None)

    def test_nul_control_and_surrogate_in_a_name(self, tmp_path):
        """The inputs that crashed the export: a NUL, an escape character, a lone surrogate."""
        path = tmp_path / "out.xlsx"
        write_xlsx([invoice_with("ACME\x00\x1b\ud800 GmbH", "VM\x07", ["Str.\x0c 1"])], path)
        sheet = openpyxl.load_workbook(path)["Invoices"]
        assert sheet["D2"].value == "ACME\ufffd\ufffd\ufffd GmbH"


def pieces_of(csv_text: str) -> list[str]:
    """Every piece a spreadsheet could make a cell of: each field of the CSV as written,
    and of the raw text, split on , ; tab and line breaks, leading spaces and quotes off."""
    fields = [f for row in csv.reader(io.StringIO(csv_text)) for f in row]
    return [p.lstrip(' "') for text in (*fields, csv_text) for p in PIECES.split(text)]


class TestCsvFormulas:
    @given(NAMES, ANY_TEXT, st.lists(ANY_TEXT, max_size=3))
    def test_no_piece_of_the_csv_starts_like_a_formula(self, name, description, address):
        """For any text, no field of the written CSV, split on ; or , (or tab, CR, LF), starts
        with = + - @ without an apostrophe in front."""
        buf = io.StringIO()
        write_csv([invoice_with(name, description, address)], buf)
        for piece in pieces_of(buf.getvalue()):
            assert not piece.startswith(FORMULA), piece

    @given(ANY_TEXT)
    def test_only_apostrophes_are_added(self, text):
        """Neutralising only adds apostrophes: taking each added one out gives the text back,
        and every part now starts with text."""
        safe = neutralise(text)
        assert len(safe) >= len(text)
        for part in PIECES.split(safe):
            assert not part.lstrip(' "').startswith(FORMULA)
        assert safe.replace("'", "") == text.replace("'", "")

    @given(ANY_TEXT)
    def test_keep_numbers_spares_only_plain_numbers(self, text):
        """With keep_numbers, a part left alone that neutralise would mark is a plain number."""
        kept = _sheets.neutralise(text, keep_numbers=True)
        for part in PIECES.split(kept):
            bare = part.lstrip(' "')
            if bare.startswith(FORMULA):
                assert re.fullmatch(r"[+-]?\d+(\.\d+)?", part.strip(' "'))

    @pytest.mark.parametrize(
        ("text", "safe"),
        [
            ('ACME;=HYPERLINK("http://evil")', 'ACME;\'=HYPERLINK("http://evil")'),
            ("ACME,@SUM(A1)", "ACME,'@SUM(A1)"),
            ("ACME; +49 30 1234", "ACME; '+49 30 1234"),
            ('x;"=1+1"', 'x;"\'=1+1"'),
            ("line\n-cmd", "line\n'-cmd"),
            ("\t=1", "'\t'=1"),
            ("=1;=2", "'=1;'=2"),
            ("Compute - eu-west-1", "Compute - eu-west-1"),
            ("ACME GmbH; Berlin", "ACME GmbH; Berlin"),
        ],
    )
    def test_examples(self, text, safe):
        """Formulas after a list separator, a tab or a line break are neutralised where they
        start; hyphens inside words and text parts are left alone."""
        assert neutralise(text) == safe

    def test_semicolon_import_sees_no_formula(self):
        """A German or French spreadsheet splitting the file on ; gets no formula cell."""
        buf = io.StringIO()
        write_csv([invoice_with('ACME;=HYPERLINK("http://evil","x")', "VM", [])], buf)
        rows = list(csv.reader(io.StringIO(buf.getvalue()), delimiter=";"))
        assert not [c for row in rows for c in row if c.lstrip(' "').startswith(FORMULA)]


class TestAddress:
    @given(
        st.dictionaries(
            st.sampled_from(["street", "city", "postcode", "country"]), st.text(), min_size=1
        )
    )
    def test_a_mapping_is_refused_with_the_fix(self, address):
        """An address given as a mapping is refused, naming the field and asking for lines,
        instead of becoming its keys."""
        with pytest.raises(InvoiceError, match=r"customer address: must be a list of postal"):
            Customer(id="acme", name="ACME", address=address)

    @given(st.lists(st.text()))
    def test_lines_are_kept_in_order(self, lines):
        """A list of lines is the address, line for line."""
        assert Customer(id="acme", name="ACME", address=lines).address == tuple(lines)

    def test_text_is_split_into_lines_and_nested_values_refused(self):
        """One text is split at its line breaks; a line that is a mapping is refused."""
        assert Customer(id="a", name="A", address="Str. 1\n10115 Berlin").address == (
            "Str. 1",
            "10115 Berlin",
        )
        with pytest.raises(InvoiceError, match="address line 2: must be text"):
            Customer(id="a", name="A", address=["Str. 1", {"city": "Berlin"}])  # type: ignore[list-item]

    def test_customers_file_with_a_mapping_address(self, tmp_path):
        """The CLI's customers file names the file, the account and the fix."""
        from cloudrate.cli._invoice import load_customers

        path = tmp_path / "customers.yaml"
        path.write_text("acme:\n  name: ACME\n  address: {street: Hauptstr. 1, city: Berlin}\n")
        with pytest.raises(InvoiceError, match=r"customers\.yaml: acme: customer address: must"):
            load_customers(path)
        path.write_text("acme:\n  name: ACME\n  address: [Hauptstr. 1, 10115 Berlin]\n")
        assert load_customers(path)["acme"].address == ("Hauptstr. 1", "10115 Berlin")


class TestLongTextOnThePdf:
    def test_ten_thousand_characters_wrap_and_are_cut(self):
        """A 10,000-character name, address line and description wrap within their column
        and are cut with an ellipsis; the amount columns stay readable."""
        render = pytest.importorskip("cloudrate.invoice.render")
        pypdf = pytest.importorskip("pypdf")
        long_ = invoice_with("N" * 10_000, "D" * 10_000, ["A" * 10_000])
        pdf = pypdf.PdfReader(io.BytesIO(render.render_pdf(long_, locale="en_GB")))
        text = "".join(page.extract_text() for page in pdf.pages).replace("\u200b", "")
        lines = text.splitlines()
        for letter in "NDA":
            run = [line for line in lines if letter * 20 in line]
            assert run, letter
            assert max(len(line) for line in run) < 80  # wrapped: no line runs off the page
            assert sum(line.count(letter) for line in run) < 500  # cut ...
        assert text.count("…") >= 3  # ... with an ellipsis
        assert "12.50" in text  # the price and amount columns are intact
        row = next(line for line in lines if "12.50" in line)
        assert "D" not in row  # and not overprinted by the description
