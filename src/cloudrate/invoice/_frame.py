"""Notebook display: an HTML table for Jupyter, and pandas DataFrames when pandas is there."""

from __future__ import annotations

import decimal
import html
from collections.abc import Iterable
from decimal import Decimal
from types import ModuleType
from typing import TYPE_CHECKING, Any

from cloudrate._money import _MODES, EXACT
from cloudrate.exceptions import InvoiceError

from ._tables import rows

if TYPE_CHECKING:
    from ._invoice import Invoice

__all__ = ["invoices_to_pandas", "repr_html", "to_pandas"]


def _pandas() -> ModuleType:
    try:
        import pandas  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise InvoiceError("DataFrames need pandas: pip install 'cloudrate[pandas]'") from None
    module: ModuleType = pandas
    return module


def to_pandas(invoice: Invoice) -> Any:
    """The invoice's lines as a DataFrame (one row per line; amounts stay Decimal)."""
    return invoices_to_pandas([invoice], "lines")


def invoices_to_pandas(invoices: Iterable[Invoice], layout: str = "summary") -> Any:
    """Invoices as a DataFrame: ``"summary"`` (one row per invoice) or ``"lines"``."""
    pandas = _pandas()
    header, body = rows(invoices, layout)
    return pandas.DataFrame.from_records(body, columns=list(header))


def shown(invoice: Invoice, amount: Decimal) -> str:
    """*amount* with the invoice's display decimals (rounded with its policy's mode), or as
    billed when it has none."""
    if invoice.display_decimals is None:
        return str(amount)
    quantum = Decimal(1).scaleb(-invoice.display_decimals)
    return str(amount.quantize(quantum, rounding=_MODES[invoice.rounding.mode], context=EXACT))


def repr_html(invoice: Invoice) -> str:
    """A plain HTML table; customer-provided text is escaped."""
    e = html.escape
    cur = e(invoice.currency)
    with decimal.localcontext(EXACT):
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{e(str(v))}</td>"
                for v in (
                    x.description,
                    x.service or "",
                    x.quantity,
                    x.unit,
                    "" if x.unit_price is None else x.unit_price.amount,
                    shown(invoice, x.amount.amount),
                )
            )
            + "</tr>"
            for x in invoice.lines
        )
        foot = [("Subtotal", invoice.subtotal.amount)]
        foot += [
            (f"{t.rate.label} on {shown(invoice, t.base.amount)}", t.amount.amount)
            for t in invoice.taxes
        ]
        foot.append(("Total", invoice.total.amount))
        if invoice.state != "draft":
            foot.append(("Amount due", invoice.amount_due.amount))
        tfoot = "".join(
            f"<tr><th colspan='5'>{e(label)}</th><th>{shown(invoice, v)}</th></tr>"
            for label, v in foot
        )
    title = invoice.number or f"Draft {invoice.id}"
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Description", "Service", "Quantity", "Unit", "Unit price", f"Amount ({cur})")
    )
    notes = "".join(f"<p>{e(n)}</p>" for n in invoice.notes)
    return (
        f"<div><table><caption>{e(title)} · {e(invoice.customer.name)} · "
        f"{e(invoice.period.label)} · {e(invoice.status)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody><tfoot>{tfoot}</tfoot>"
        f"</table>{notes}</div>"
    )
