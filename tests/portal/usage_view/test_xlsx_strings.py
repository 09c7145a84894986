"""The usage page's XLSX report takes every string (issue 12, group 3)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudrate.portal.usage_view._export import to_xlsx

openpyxl = pytest.importorskip("openpyxl")


@settings(max_examples=30, deadline=None)
@given(st.text(st.characters(codec=None), max_size=30))
def test_any_text_in_a_cell_writes_a_file_that_reads_back(text: str) -> None:
    data = to_xlsx([("Sheet", [text or "h"], [[text]])])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book["Sheet"].max_row == 2
