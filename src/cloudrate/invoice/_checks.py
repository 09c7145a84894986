"""The checks an invoice runs on its own fields when built (its sums: :mod:`._sums`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloudrate.exceptions import InvoiceError

from ._states import STATES

if TYPE_CHECKING:
    from ._invoice import Invoice

__all__ = ["check_display_decimals", "check_exchange_rate", "check_state"]


def check_display_decimals(_inst: object, _attr: object, value: int | None) -> None:
    """An attrs validator: *value* is None or a whole number from 0 to 12."""
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 12
    ):
        raise InvoiceError(
            "display_decimals: must be a whole number from 0 to 12, or None for the "
            f"currency's minor units (got {value!r})"
        )


def check_state(invoice: Invoice) -> None:
    """The state is one of :data:`STATES`, and only an issued invoice has a number."""
    if invoice.state not in STATES:
        raise InvoiceError(f"invoice state: one of {', '.join(STATES)} (got {invoice.state!r})")
    if (invoice.state == "draft" and invoice.number is not None) or (
        invoice.state == "issued" and invoice.number is None
    ):
        raise InvoiceError(
            "a draft has no number and an issued invoice has one "
            f"(state {invoice.state!r}, number {invoice.number!r})"
        )


def check_exchange_rate(invoice: Invoice) -> None:
    """A rate fixed on the invoice converts from the invoice's currency."""
    fx = invoice.exchange_rate
    if fx is not None and fx.base != invoice.currency:
        raise InvoiceError(
            f"exchange_rate converts from {fx.base}, but the invoice is "
            f"in {invoice.currency}; give a rate whose base is {invoice.currency}"
        )
