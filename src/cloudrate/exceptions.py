"""Every error cloudrate raises on purpose.

Each error says what is wrong, the value seen and how to fix it, and carries a stable
``code`` (docs/errors.md lists them all) with its fields (``path``, ``value``,
``expected``, ``fix``) for programs that map errors to HTTP statuses, form fields or
translations. Each also subclasses a builtin (mostly :class:`ValueError`) so
``except ValueError`` keeps working in code that does not know cloudrate.

>>> err = PlanError("tiers[2].up_to: not above the tier before it", path="tiers[2].up_to",
...                 value="100", expected="a number above 100", fix="raise up_to")
>>> err.code, err.path
('plan_invalid', 'tiers[2].up_to')
>>> err.to_dict()["fix"]
'raise up_to'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Self

import attrs

__all__ = [
    "BillingError",
    "CloudrateError",
    "ConfigError",
    "CurrencyMismatchError",
    "DeliveryError",
    "DocumentNotFoundError",
    "DuplicateUsageError",
    "FloatNotAllowedError",
    "IdempotencyConflictError",
    "InsufficientFundsError",
    "InvoiceError",
    "InvoiceStateError",
    "MissingExtraError",
    "NotFoundError",
    "OptionError",
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
    "WrongTypeError",
]


def _snake(name: str) -> str:
    """``RateNotFoundError`` -> ``rate_not_found``: the code of a class that sets none."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return words.removesuffix("_error") or words


class CloudrateError(Exception):
    """Base of every error cloudrate raises on purpose.

    ``code`` is stable: it names the class of problem (each class sets its own; a raise
    site may give a finer one). The fields say where (``path``: a field path, file or
    file:line), what was seen (``value``), what was expected and how to fix it; each is
    None when it does not apply.

    >>> CloudrateError("no plan", code="no_plan", fix="pass --plan").to_dict()
    {'code': 'no_plan', 'message': 'no plan', 'fix': 'pass --plan'}
    """

    #: The stable code of this class of error (docs/errors.md).
    code: str = "cloudrate_error"
    path: str | None
    value: object
    expected: str | None
    fix: str | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:  # a class of its own gets a code of its own
            cls.code = _snake(cls.__name__)

    def __init__(
        self,
        *args: object,
        code: str | None = None,
        path: str | None = None,
        value: object = None,
        expected: str | None = None,
        fix: str | None = None,
    ) -> None:
        super().__init__(*args)
        if code is not None:
            self.code = code
        self._fields(path=path, value=value, expected=expected, fix=fix)

    @classmethod
    def refusing(
        cls,
        path: str,
        text: str,
        value: object,
        fix: str,
        *,
        expected: str | None = None,
        where: str | None = None,
    ) -> Self:
        """The error for an argument *path* that is not *text*: the value seen (its type
        and repr) and the *fix*, every field set (*expected* defaults to *text*; *where*
        names the argument in the message when it is not *path*).

        >>> err = PlanError.refusing("rates", "a mapping", [("USD", "1")], "pass a dict")
        >>> str(err), err.path, err.expected
        ("rates: a mapping (got list [('USD', '1')]); pass a dict", 'rates', 'a mapping')
        """
        return cls(
            f"{where or path}: {text} (got {type(value).__name__} {value!r}); {fix}",
            path=path,
            value=value,
            expected=expected or text,
            fix=fix,
        )

    def _fields(
        self,
        *,
        path: str | None = None,
        value: object = None,
        expected: str | None = None,
        fix: str | None = None,
    ) -> None:
        """Set the fields a subclass knows (those it does not stay None)."""
        self.path, self.value, self.expected, self.fix = path, value, expected, fix

    @property
    def message(self) -> str:
        """The error's text, as ``str(error)`` gives it."""
        return str(self)

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON data: ``code`` and ``message``, then each field that is set
        (values as text unless they are JSON numbers, strings or booleans)."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        for name in ("path", "value", "expected", "fix"):
            field = getattr(self, name, None)
            if field is not None:
                out[name] = field if isinstance(field, str | int | bool) else str(field)
        return out


class FloatNotAllowedError(CloudrateError, TypeError):
    """A float was given where money or a quantity is expected.

    >>> raise FloatNotAllowedError(0.1, "unit_price")
    Traceback (most recent call last):
    ...
    cloudrate.exceptions.FloatNotAllowedError: unit_price: got the float 0.1; floats cannot hold \
money exactly, pass Decimal('0.1') or the string '0.1' instead
    """

    code = "float_not_allowed"

    def __init__(self, value: float, where: str) -> None:
        fix = f"pass Decimal('{value!r}') or the string '{value!r}' instead"
        super().__init__(
            f"{where}: got the float {value!r}; floats cannot hold money exactly, {fix}"
        )
        self.where = where
        self._fields(path=where, value=value, expected="a Decimal, int or str", fix=fix)


class OptionError(CloudrateError, ValueError):
    """An argument outside the values a function takes (``on_error="ignore"``,
    ``workers=0``): the message lists the values it takes.

    >>> OptionError("workers: 1 or more (got 0)", path="workers", value=0).code
    'invalid_option'
    """

    code = "invalid_option"


class MissingExtraError(CloudrateError, ImportError):
    """A feature needs an optional dependency that is not installed; the message (and
    ``fix``) is the ``pip install`` to run. Also an :class:`ImportError`.

    >>> err = MissingExtraError("PDF invoices", "typst", "pdf")
    >>> print(err)
    PDF invoices need typst: pip install 'cloudrate[pdf]'
    >>> err.extra, err.fix
    ('pdf', "pip install 'cloudrate[pdf]'")
    """

    code = "missing_extra"

    def __init__(self, feature: str, packages: str, extra: str) -> None:
        fix = f"pip install 'cloudrate[{extra}]'"
        verb = "need" if feature.endswith("s") and not feature.endswith("ss") else "needs"
        super().__init__(f"{feature} {verb} {packages}: {fix}")
        self.extra = extra
        self._fields(value=packages, expected=f"the {extra!r} extra installed", fix=fix)


class WrongTypeError(CloudrateError, TypeError):
    """An argument of a type the function does not take (a list where a table is
    expected); the message names the types it takes."""

    code = "wrong_type"


class NotFoundError(CloudrateError, KeyError):
    """A lookup by name or key found nothing (a tenant, a charge of a bill, a card, a
    CloudStack usage type); the message names what exists. Also a :class:`KeyError`, so
    mapping-style code keeps working.

    >>> str(NotFoundError("no tenant 'x'; tenants are a, b"))
    "no tenant 'x'; tenants are a, b"
    """

    code = "not_found"

    def __str__(self) -> str:  # the message as given, not KeyError's repr of it
        return str(self.args[0]) if self.args else ""


class PlanError(CloudrateError, ValueError):
    """A plan, charge or rule was built with values that cannot be priced."""

    code = "plan_invalid"


class CurrencyMismatchError(CloudrateError, ValueError):
    """An amount is in another currency than the one it is combined with."""

    code = "currency_mismatch"

    def __init__(self, expected: str, got: str, where: str, *, fix: str | None = None) -> None:
        """*fix* says what to do where the amount is not a plan's price (the default text
        is for plans: "give every price in a plan the plan's currency")."""
        if fix is None:
            fix = "give every price in a plan the plan's currency"
            text = f"{where} is in {got}, but this plan bills in {expected}; {fix}"
        else:
            text = f"{where} is in {got}, where {expected} is expected; {fix}"
        super().__init__(text)
        self.got, self.where = got, where
        self._fields(path=where, value=got, expected=expected, fix=fix)


class UsageError(CloudrateError, ValueError):
    """A usage record cannot be rated as given."""

    code = "usage_invalid"


class DuplicateUsageError(UsageError):
    """One usage record id was delivered twice with different content and the later copy
    does not declare itself a correction (a higher ``revision``); both rows are named."""

    code = "usage_duplicate_conflict"


class RatingError(CloudrateError, ValueError):
    """Usage and plan do not fit together (e.g. usage outside the billing period)."""

    code = "rating_refused"


class WalletError(CloudrateError, ValueError):
    """A prepaid wallet operation was refused; the ledger is left unchanged."""

    code = "wallet_refused"


class UnknownAccountError(WalletError, LookupError):
    """An entry names an account the ledger has not opened."""

    code = "wallet_unknown_account"


class IdempotencyConflictError(WalletError):
    """An idempotency key was reused for an entry with different content."""

    code = "idempotency_conflict"


class InsufficientFundsError(WalletError):
    """A deduction would take a prepaid balance below its floor."""

    code = "insufficient_funds"


class RechargeLimitError(WalletError):
    """A recharge is below the minimum or above the maximum prepaid recharge."""

    code = "recharge_limit"


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

    code = "invalid_document"

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        problems = tuple(problems)
        count = len(problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {source or 'the document'}:"
        super().__init__("\n".join([head, *(f"  {p}" for p in problems)]))
        self.problems = problems
        self.source = source
        self._fields(path=source, fix="correct each problem listed and load the document again")

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON data, with every problem (path, code, message, value, line)."""
        out = super().to_dict()
        out["problems"] = [_problem_dict(p) for p in self.problems]
        return out


def _problem_dict(problem: Problem) -> dict[str, Any]:
    out: dict[str, Any] = {"path": problem.path, "code": problem.code, "message": problem.message}
    if problem.value is not None:
        value = problem.value
        out["value"] = value if isinstance(value, str | int | bool) else repr(value)
    if problem.line is not None:
        out["line"] = problem.line
    if problem.source is not None:
        out["source"] = problem.source
    return out


class UnpricedUsageError(RatingError):
    """Usage for metrics no charge of the plan prices, refused under ``on_unpriced='error'``."""

    code = "unpriced_usage"

    def __init__(self, metrics: dict[str, int], reasons: dict[str, str] | None = None) -> None:
        self.metrics = dict(metrics)
        self.reasons = dict(reasons or {})

        def why(metric: str) -> str:
            reason = self.reasons.get(metric)
            return f": {reason}" if reason else ""

        listed = ", ".join(
            f"{m} ({n} record{'s' if n != 1 else ''}{why(m)})" for m, n in metrics.items()
        )
        fix = (
            "add a charge for each metric (or a 'where' that selects the records), or rate "
            "with on_unpriced='report' to list them in the result instead"
        )
        super().__init__(f"no charge of the plan prices {listed}; {fix}")
        self._fields(value=", ".join(metrics), fix=fix)


class InvoiceError(CloudrateError, ValueError):
    """An invoice cannot be built, taxed, paid or exported as asked."""

    code = "invoice_refused"


class InvoiceStateError(InvoiceError):
    """The invoice is not in a state that allows the step (finalising twice, paying a void
    invoice...)."""

    code = "invoice_state"


class SequenceError(CloudrateError, RuntimeError):
    """A number sequence could not hand out the next number; nothing was consumed."""

    code = "sequence_unavailable"


class BillingError(CloudrateError, ValueError):
    """A billing run, payment attempt or stored document operation was refused as asked;
    nothing was written."""

    code = "billing_refused"


class DocumentNotFoundError(BillingError, NotFoundError):
    """No stored document has the number asked for (in the tenant asked for). Also a
    :class:`BillingError` and a :class:`KeyError`."""

    code = "document_not_found"


class StoreError(CloudrateError, RuntimeError):
    """The document store could not be opened, read or written; the transaction was rolled
    back, so nothing of the step was written."""

    code = "store_unavailable"


class DeliveryError(CloudrateError, RuntimeError):
    """An event could not be delivered to its webhook after every retry; it stays pending."""

    code = "delivery_failed"
