"""Payment terms: when an invoice issued on a date is due."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol, runtime_checkable

import attrs
from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped,unused-ignore]

from cloudrate.exceptions import InvoiceError

__all__ = ["DueOnReceipt", "EndOfMonth", "Net", "PaymentTerms"]


@runtime_checkable
class PaymentTerms(Protocol):
    """Turns an issue date into a due date, and names itself for the invoice."""

    @property
    def label(self) -> str: ...

    def due(self, issued_on: date) -> date: ...


#: The longest terms taken: 100 years, in days or months (a due date stays a date).
MAX_TERM = {"days": 36_500, "months": 1_200}


def _days(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    most = MAX_TERM[attribute.name]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
        raise InvoiceError(
            f"payment terms {attribute.name}: a whole number from 0 to {most} (got {value!r})"
        )


@attrs.frozen
class Net:
    """Due *days* after the issue date ("net 30").

    >>> Net(30).due(date(2026, 11, 1)), Net(30).label
    (datetime.date(2026, 12, 1), 'Net 30')
    """

    days: int = attrs.field(validator=_days)

    @property
    def label(self) -> str:
        return f"Net {self.days}"

    def due(self, issued_on: date) -> date:
        return issued_on + timedelta(days=self.days)


@attrs.frozen
class EndOfMonth:
    """Due at the end of the issue month, *months* later, then *days* more ("net 30 EOM").

    >>> EndOfMonth().due(date(2026, 2, 10))
    datetime.date(2026, 2, 28)
    >>> EndOfMonth(days=30).due(date(2026, 1, 31)), EndOfMonth(days=30).label
    (datetime.date(2026, 3, 2), 'Net 30 EOM')
    >>> EndOfMonth(months=1).due(date(2026, 1, 15))
    datetime.date(2026, 2, 28)
    """

    days: int = attrs.field(default=0, validator=_days)
    months: int = attrs.field(default=0, validator=_days)

    @property
    def label(self) -> str:
        if self.months:
            return f"End of month + {self.months} month(s)" + (
                f" + {self.days} days" if self.days else ""
            )
        return f"Net {self.days} EOM" if self.days else "End of month"

    def due(self, issued_on: date) -> date:
        end: date = issued_on + relativedelta(months=self.months, day=31)
        return end + timedelta(days=self.days)


@attrs.frozen
class DueOnReceipt:
    """Due on the issue date.

    >>> DueOnReceipt().due(date(2026, 11, 1))
    datetime.date(2026, 11, 1)
    """

    @property
    def label(self) -> str:
        return "Due on receipt"

    def due(self, issued_on: date) -> date:
        return issued_on
