"""The :class:`Seller`: who issues the invoices a renderer prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

__all__ = ["Seller"]


def _lines(value: Sequence[str] | str) -> tuple[str, ...]:
    return tuple(value.splitlines()) if isinstance(value, str) else tuple(str(v) for v in value)


@attrs.frozen(kw_only=True)
class Seller:
    """Who issues the invoice: printed at the top, in the footer and in the payment box.

    >>> Seller(name="Example Cloud GmbH", address="Cloudweg 1\\n10115 Berlin").address
    ('Cloudweg 1', '10115 Berlin')
    """

    name: str
    address: tuple[str, ...] = attrs.field(default=(), converter=_lines)
    tax_id: str | None = None
    email: str | None = None
    website: str | None = None
    payment_details: tuple[str, ...] = attrs.field(default=(), converter=_lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": list(self.address),
            "tax_id": self.tax_id,
            "email": self.email,
            "website": self.website,
            "payment_details": list(self.payment_details),
        }
