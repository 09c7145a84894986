"""The usage view's HTML shows quantities rounded for display, as the invoice does, with
the exact value in a ``title`` (issue 12 / issue 15 part 3)."""

from __future__ import annotations

import decimal
import functools
import html
import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import attrs
from hypothesis import given
from hypothesis import strategies as st
from moneyed import Money

import cloudrate
from cloudrate.invoice.render import Formatter
from cloudrate.portal.usage_view import DateRange, MetricCard, UsageView, usage_view


@functools.cache
def _view() -> UsageView:
    plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    return usage_view(
        plan,
        cloudrate.read_usage(cloudrate.sample_usage_path()),
        account="acme",
        date_range=DateRange.custom(date(2026, 10, 1), date(2026, 10, 31), "Europe/Berlin"),
    )


class _Cells(HTMLParser):
    """The quantity cells (second column of the first table): (text, title)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str | None]] = []
        self._table = self._column = 0
        self._title: str | None = None
        self._in: bool = False
        self._text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table += 1
        elif tag == "tr":
            self._column = 0
        elif tag == "td":
            self._column += 1
            if self._table == 1 and self._column == 2:
                self._in, self._text, self._title = True, "", dict(attrs).get("title")

    def handle_endtag(self, tag):
        if tag == "td" and self._in:
            self.cells.append((self._text, self._title))
            self._in = False

    def handle_data(self, data):
        if self._in:
            self._text += data


def quantity_cells(page: str) -> list[tuple[str, str | None]]:
    parser = _Cells()
    parser.feed(page)
    return parser.cells


def _with_card(quantity: Decimal, label: str = "vCPU", unit: str = "vCPU-hour") -> UsageView:
    card = MetricCard(
        key="k",
        label=label,
        quantity=quantity,
        unit=unit,
        cost=Money("1.00", "EUR"),
        metrics=("vcpu_hours",),
    )
    return attrs.evolve(_view(), cards=(card,))


#: Quantities as usage views hold them: up to 60 significant digits, any exponent a
#: quantity below MAX_QUANTITY can have, tiny ones included.
QUANTITIES = st.decimals(
    min_value=0, max_value=Decimal("1E+36") - 1, allow_nan=False, allow_infinity=False
) | st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(min_value=0, max_value=10**60 - 1),
    st.integers(min_value=-80, max_value=-20),
)


class TestQuantities:
    def test_sample_quantities_are_rounded(self):
        """The sample's cards held 28-digit quantities (2004.391946308724832214765101)."""
        view = _view()
        cells = quantity_cells(view._repr_html_())
        assert len(cells) == len(view.cards)
        for card, (text, title) in zip(view.cards, cells, strict=True):
            decimals = text.partition(".")[2]
            assert len(decimals) <= 4, text
            assert title is not None and Decimal(title) == card.quantity

    @given(QUANTITIES)
    def test_shown_as_the_invoice_shows_them(self, quantity):
        """The cell is the invoice's display of the quantity (no grouping), the title the
        exact value, whatever the quantity and the caller's decimal context."""
        expected = Formatter("en_US", "EUR", rounding=_view().plan.rounding).number(quantity)
        with decimal.localcontext(decimal.Context(prec=4, traps=[])):
            page = _with_card(quantity)._repr_html_()
        ((text, title),) = quantity_cells(page)
        assert text == expected.replace(",", "")
        assert title is not None and Decimal(title) == quantity
        assert len(re.sub(r"\D", "", text.partition("E")[0])) <= 18 + 4

    def test_tiny_quantity_is_escaped(self):
        """``<0.0001`` is text, not a tag."""
        page = _with_card(Decimal("0.00000001"))._repr_html_()
        assert "&lt;0.0001" in page and "<0.0001" not in page
        assert quantity_cells(page) == [("<0.0001", "0.00000001")]

    def test_text_is_escaped(self):
        evil = '<script>alert("x")</script>'
        page = _with_card(Decimal("1.5"), label=evil, unit=evil)._repr_html_()
        assert "<script>" not in page
        assert page.count(html.escape(evil)) == 2
