"""Notebook display: an invoice as a plain HTML table (``Invoice._repr_html_``).

Customer-provided text is escaped; amounts show the invoice's display decimals.
"""

from __future__ import annotations

import decimal
import html
from decimal import Decimal
from typing import TYPE_CHECKING

from cloudrate._money import EXACT, RoundingPolicy

if TYPE_CHECKING:
    from ._invoice import Invoice
    from ._model import InvoiceLine

__all__ = ["repr_html", "shown"]

_HEAD = ("Description", "Service", "Quantity", "Unit", "Unit price")


def shown(invoice: Invoice, amount: Decimal) -> str:
    """*amount* with the invoice's display decimals (rounded with its policy's mode), or as
    billed when it has none."""
    if invoice.display_decimals is None:
        return str(amount)
    policy = RoundingPolicy(mode=invoice.rounding.mode, digits=invoice.display_decimals)
    return str(policy.round(amount, invoice.currency))


def _row(invoice: Invoice, line: InvoiceLine) -> str:
    cells = (
        line.description,
        line.service or "",
        line.quantity,
        line.unit,
        "" if line.unit_price is None else line.unit_price.amount,
        shown(invoice, line.amount.amount),
    )
    return "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in cells) + "</tr>"


def _foot(invoice: Invoice) -> str:
    foot = [("Subtotal", invoice.subtotal.amount)]
    foot += [
        (f"{t.rate.label} on {shown(invoice, t.base.amount)}", t.amount.amount)
        for t in invoice.taxes
    ]
    foot.append(("Total", invoice.total.amount))
    if invoice.state != "draft":
        foot.append(("Amount due", invoice.amount_due.amount))
    return "".join(
        f"<tr><th colspan='5'>{html.escape(label)}</th><th>{shown(invoice, v)}</th></tr>"
        for label, v in foot
    )


def repr_html(invoice: Invoice) -> str:
    """A plain HTML table of the lines and totals; customer-provided text is escaped."""
    e = html.escape
    with decimal.localcontext(EXACT):
        body = "".join(_row(invoice, x) for x in invoice.lines)
        tfoot = _foot(invoice)
    title = invoice.number or f"Draft {invoice.id}"
    head = "".join(f"<th>{h}</th>" for h in (*_HEAD, f"Amount ({e(invoice.currency)})"))
    notes = "".join(f"<p>{e(n)}</p>" for n in invoice.notes)
    return (
        f"<div><table><caption>{e(title)} · {e(invoice.customer.name)} · "
        f"{e(invoice.period.label)} · {e(invoice.status)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody><tfoot>{tfoot}</tfoot>"
        f"</table>{notes}</div>"
    )
