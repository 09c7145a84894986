"""Every error cloudrate raises on purpose.

Each error says what is wrong, the value seen and how to fix it. Each also
subclasses a builtin (mostly :class:`ValueError`) so ``except ValueError`` keeps
working in code that does not know cloudrate.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = [
    "BillingError",
    "CloudrateError",
    "ConfigError",
    "CurrencyMismatchError",
    "DeliveryError",
    "DuplicateUsageError",
    "FloatNotAllowedError",
    "IdempotencyConflictError",
    "InsufficientFundsError",
    "InvoiceError",
    "InvoiceStateError",
    "PlanError",
    "Problem",
    "RatingError",
    "RechargeLimitError",
    "SequenceError",
    "StoreError",
    "UnknownAccountError",
    "UnpricedUsageError",
    "UsageError",
    "WalletError",
]


class CloudrateError(Exception):
    """Base of every error cloudrate raises on purpose."""


class FloatNotAllowedError(CloudrateError, TypeError):
    """A float was given where money or a quantity is expected.

    >>> raise FloatNotAllowedError(0.1, "unit_price")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.FloatNotAllowedError: unit_price: got the float 0.1; floats cannot hold \
money exactly, pass Decimal('0.1') or the string '0.1' instead
    """

    def __init__(self, value: float, where: str) -> None:
        self.value, self.where = value, where
        super().__init__(
            f"{where}: got the float {value!r}; floats cannot hold money exactly, "
            f"pass Decimal('{value!r}') or the string '{value!r}' instead"
        )


class PlanError(CloudrateError, ValueError):
    """A plan, charge or rule was built with values that cannot be priced."""


class CurrencyMismatchError(CloudrateError, ValueError):
    """An amount is in another currency than the one it is combined with."""

    def __init__(self, expected: str, got: str, where: str) -> None:
        self.expected, self.got, self.where = expected, got, where
        super().__init__(
            f"{where} is in {got}, but this plan bills in {expected}; "
            "give every price in a plan the plan's currency"
        )


class UsageError(CloudrateError, ValueError):
    """A usage record cannot be rated as given."""


class DuplicateUsageError(UsageError):
    """One usage record id was delivered twice with different content and the later copy
    does not declare itself a correction (a higher ``revision``); both rows are named."""


class RatingError(CloudrateError, ValueError):
    """Usage and plan do not fit together (e.g. usage outside the billing period)."""


class WalletError(CloudrateError, ValueError):
    """A prepaid wallet operation was refused; the ledger is left unchanged."""


class UnknownAccountError(WalletError, LookupError):
    """An entry names an account the ledger has not opened."""


class IdempotencyConflictError(WalletError):
    """An idempotency key was reused for an entry with different content."""


class InsufficientFundsError(WalletError):
    """A deduction would take a prepaid balance below its floor."""


class RechargeLimitError(WalletError):
    """A recharge is below the minimum or above the maximum prepaid recharge."""


@attrs.frozen
class Problem:
    """One thing wrong in a document: where, a stable code, what and the value seen."""

    path: str
    code: str
    message: str
    value: object = None
    line: int | None = None
    source: str | None = None

    def __str__(self) -> str:
        where = self.path or "(document)"
        if self.line is not None:
            where += f" (line {self.line})"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (got {self.value!r})"
        return f"{text} [{self.code}]"


class ConfigError(CloudrateError, ValueError):
    """A document could not be loaded; *problems* lists all that is wrong.

    >>> err = ConfigError([Problem("currency", "unknown_currency", "not an ISO 4217 code", "EURO",
    ...                            line=2)], source="plan.yaml")
    >>> print(err)
    1 problem in plan.yaml:
      currency (line 2): not an ISO 4217 code (got 'EURO') [unknown_currency]
    """

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {source or 'the document'}:"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


class UnpricedUsageError(RatingError):
    """Usage for metrics no charge of the plan prices, refused under ``on_unpriced='error'``."""

    def __init__(self, metrics: dict[str, int], reasons: dict[str, str] | None = None) -> None:
        self.metrics = dict(metrics)
        self.reasons = dict(reasons or {})

        def why(metric: str) -> str:
            reason = self.reasons.get(metric)
            return f": {reason}" if reason else ""

        listed = ", ".join(
            f"{m} ({n} record{'s' if n != 1 else ''}{why(m)})" for m, n in metrics.items()
        )
        super().__init__(
            f"no charge of the plan prices {listed}; add a charge for each metric (or a "
            "'where' that selects the records), or rate with on_unpriced='report' to list "
            "them in the result instead"
        )


class InvoiceError(CloudrateError, ValueError):
    """An invoice cannot be built, taxed, paid or exported as asked."""


class InvoiceStateError(InvoiceError):
    """The invoice is not in a state that allows the step (finalising twice, paying a void
    invoice...)."""


class SequenceError(CloudrateError, RuntimeError):
    """A number sequence could not hand out the next number; nothing was consumed."""


class BillingError(CloudrateError, ValueError):
    """A billing run, payment attempt or stored document operation was refused as asked;
    nothing was written."""


class StoreError(CloudrateError, RuntimeError):
    """The document store could not be opened, read or written; the transaction was rolled
    back, so nothing of the step was written."""


class DeliveryError(CloudrateError, RuntimeError):
    """An event could not be delivered to its webhook after every retry; it stays pending."""
