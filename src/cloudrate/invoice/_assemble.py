"""Assembly: a rated bill, a customer and taxes for a period become a draft :class:`Invoice`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, get_args, overload

from moneyed import Money

from cloudrate._money import RoundingPolicy, exact
from cloudrate.exceptions import InvoiceError
from cloudrate.fx import ExchangeRate
from cloudrate.period import BillingPeriod
from cloudrate.rating import AccountBill, RatedLine, RatingResult
from cloudrate.rules import ConvertedBill

from ._invoice import Invoice
from ._model import Customer, InvoiceLine, TaxRate
from ._sums import add_up, zero
from ._tax_rules import FlatTax, TaxRule
from ._taxes import TaxMethod, apply_taxes

__all__ = ["EMPTY_BILLS", "EmptyBill", "assemble", "assemble_all"]

#: What a bill without lines gives: a zero invoice (``"zero"``) or no invoice (``"none"``).
EmptyBill = Literal["zero", "none"]
EMPTY_BILLS: tuple[EmptyBill, ...] = get_args(EmptyBill)


def _line(line: RatedLine, rate: TaxRate | None) -> InvoiceLine:
    return InvoiceLine(
        charge=line.charge,
        kind=line.kind,
        description=line.description,
        service=line.service,
        metric=line.metric,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        amount=line.rounded,
        exact_amount=line.amount,
        explanation=line.explain(),
        tax_rate=rate,
    )


@overload
def assemble(
    bill: AccountBill | RatingResult | ConvertedBill,
    customer: Customer,
    period: BillingPeriod | None = ...,
    *,
    taxes: TaxRule | TaxRate | None = ...,
    tax_method: TaxMethod = ...,
    rounding: RoundingPolicy | None = ...,
    exchange_rate: ExchangeRate | None = ...,
    display_decimals: int | None = ...,
    empty: Literal["zero"] = ...,
    invoice_id: str | None = ...,
) -> Invoice: ...
@overload
def assemble(
    bill: AccountBill | RatingResult | ConvertedBill,
    customer: Customer,
    period: BillingPeriod | None = ...,
    *,
    taxes: TaxRule | TaxRate | None = ...,
    tax_method: TaxMethod = ...,
    rounding: RoundingPolicy | None = ...,
    exchange_rate: ExchangeRate | None = ...,
    display_decimals: int | None = ...,
    empty: EmptyBill,
    invoice_id: str | None = ...,
) -> Invoice | None: ...
def assemble(
    bill: AccountBill | RatingResult | ConvertedBill,
    customer: Customer,
    period: BillingPeriod | None = None,
    *,
    taxes: TaxRule | TaxRate | None = None,
    tax_method: TaxMethod = "total",
    rounding: RoundingPolicy | None = None,
    exchange_rate: ExchangeRate | None = None,
    display_decimals: int | None = None,
    empty: EmptyBill = "zero",
    invoice_id: str | None = None,
) -> Invoice | None:
    """Build the draft invoice of *customer* for *period* from a rated bill.

    Args:
        bill: the customer's :class:`~cloudrate.AccountBill` (its lines may include
            adjustments rules added), a :class:`~cloudrate.RatingResult` to take it from,
            or a :class:`~cloudrate.rules.ConvertedBill` (the bill in the customer's
            currency): its rate is noted on the invoice, in :attr:`Invoice.notes`, and
            each line's explanation ends with its conversion.
        customer: who is billed; ``customer.id`` must be the bill's account.
        period: the billing period; with a RatingResult, by default its period, and it must
            be the period the usage was rated for (usage outside it is refused).
        taxes: a :class:`TaxRule` (or one :class:`TaxRate` for every line); None: untaxed.
        tax_method: ``"total"`` (per rate, EN 16931) or ``"line"``.
        rounding: rounds the tax; by default the RatingResult's policy, else half-up to the
            currency's minor units. Lines keep the amounts rating rounded.
        exchange_rate: fixed on the invoice to show the total in another currency; its
            base must be the bill currency (for a ConvertedBill, the converted currency).
        display_decimals: decimals renderers show; amounts are not changed.
        empty: a bill without lines gives a zero invoice (``"zero"``) or None (``"none"``).
        invoice_id: the draft's identity; by default ``"<customer id>/<period label>"``.

    Returns:
        A draft :class:`Invoice` (no number): its subtotal is the sum of the rounded lines,
        its total the subtotal plus one rounded tax per rate.

    >>> from moneyed import Money
    >>> line = RatedLine.adjustment(account="acme", charge="setup", description="Setup",
    ...     amount=Money("100", "EUR"), rounded=Money("100.00", "EUR"), kind="charge")
    >>> bill = AccountBill(account="acme", lines=(), total=Money(0, "EUR"),
    ...                    exact_total=Money(0, "EUR")).with_lines([line])
    >>> inv = assemble(bill, Customer(id="acme", name="ACME"), BillingPeriod.month(2026, 10),
    ...                taxes=TaxRate(percent="19"))
    >>> inv.subtotal, inv.tax_total, inv.total, inv.number
    (Money('100.00', 'EUR'), Money('19.00', 'EUR'), Money('119.00', 'EUR'), None)

    A bill converted to the customer's currency carries its rate onto the invoice:

    >>> from datetime import date
    >>> from cloudrate.fx import ExchangeRate
    >>> from cloudrate.rules import convert_bill
    >>> fx = ExchangeRate(base="EUR", quote="USD", rate="1.0832", on=date(2026, 10, 30),
    ...                   source="ECB reference rate")
    >>> usd = assemble(convert_bill(bill, fx), Customer(id="acme", name="ACME"),
    ...                BillingPeriod.month(2026, 10))
    >>> usd.total
    Money('108.32', 'USD')
    >>> print(*usd.notes)
    Amounts converted from EUR at 1.0832 USD/EUR (ECB reference rate, rate of 2026-10-30)
    >>> usd.lines[0].explanation.splitlines()
    ['converted 100 EUR at 1.0832 USD/EUR: 108.3200 USD']
    """
    conversion: str | None = None
    if isinstance(bill, ConvertedBill):
        conversion = bill.note()
        bill = bill.bill
    bill, period, rounding = _bill_and_period(bill, customer, period, rounding)
    if empty not in EMPTY_BILLS:
        raise InvoiceError(f"empty: 'zero' or 'none' (got {empty!r})")
    if not bill.lines and empty == "none":
        return None
    return _draft(
        bill,
        customer,
        period,
        taxes=taxes,
        tax_method=tax_method,
        rounding=rounding or RoundingPolicy(),
        exchange_rate=exchange_rate,
        display_decimals=display_decimals,
        invoice_id=invoice_id or f"{customer.id}/{period.label}",
        conversion=conversion,
    )


def _bill_and_period(
    bill: AccountBill | RatingResult,
    customer: Customer,
    period: BillingPeriod | None,
    rounding: RoundingPolicy | None,
) -> tuple[AccountBill, BillingPeriod, RoundingPolicy | None]:
    """The customer's bill, its period and the rounding to use. From a RatingResult, the
    period must be the one rated and its rounding is the default."""
    if isinstance(bill, RatingResult):
        result = bill
        if period is None:
            period = result.period
        elif period != result.period:
            raise InvoiceError(
                f"the usage was rated for {result.period.label} ({result.period.start.isoformat()}"
                f" to {result.period.end.isoformat()}) but the invoice is for {period.label}; "
                "rate the usage of the invoice period only"
            )
        rounding = rounding or result.rounding
        bill = result.bill(customer.id)
    if period is None:
        raise InvoiceError("period: pass the billing period the bill covers")
    if customer.id != bill.account:
        raise InvoiceError(
            f"customer id {customer.id!r} is not the bill's account "
            f"{bill.account!r}; pass the customer of that account"
        )
    return bill, period, rounding


@exact
def _draft(
    bill: AccountBill,
    customer: Customer,
    period: BillingPeriod,
    *,
    taxes: TaxRule | TaxRate | None,
    tax_method: TaxMethod,
    rounding: RoundingPolicy,
    exchange_rate: ExchangeRate | None,
    display_decimals: int | None,
    invoice_id: str,
    conversion: str | None = None,
) -> Invoice:
    """The draft invoice of *bill*: its lines taxed, summed and checked; *conversion* is
    the note of the rate a converted bill was converted at."""
    currency = str(bill.total.currency.code)
    rule: TaxRule | None = FlatTax(taxes) if isinstance(taxes, TaxRate) else taxes
    if rule is not None and not callable(getattr(rule, "rate_for", None)):
        raise InvoiceError.refusing(
            "taxes",
            "a TaxRate, a tax rule (an object with rate_for(customer, line)) or None",
            taxes,
            "for 19% pass TaxRate(percent='19')",
        )
    lines = [_line(x, None if rule is None else rule.rate_for(customer, x)) for x in bill.lines]
    taxed, tax_lines = apply_taxes(lines, tax_method, rounding, currency)
    start = zero(rounding, currency)
    subtotal = add_up((x.amount for x in taxed), currency, start)
    tax_total = add_up((t.amount for t in tax_lines), currency, start)
    return Invoice(
        id=invoice_id,
        customer=customer,
        period=period,
        currency=currency,
        lines=taxed,
        taxes=tax_lines,
        subtotal=subtotal,
        tax_total=tax_total,
        total=Money(subtotal.amount + tax_total.amount, currency),
        tax_method=tax_method,
        notes=tuple(
            dict.fromkeys(
                [
                    *(t.rate.note for t in tax_lines if t.rate.note),
                    *([conversion] if conversion else []),
                ]
            )
        ),
        rounding=rounding,
        exchange_rate=exchange_rate,
        display_decimals=display_decimals,
    )


@exact
def assemble_all(
    result: RatingResult,
    customers: Mapping[str, Customer] | None = None,
    *,
    taxes: TaxRule | TaxRate | None = None,
    tax_method: TaxMethod = "total",
    exchange_rate: ExchangeRate | None = None,
    display_decimals: int | None = None,
    empty: EmptyBill = "zero",
    accounts: Iterable[str] | None = None,
) -> tuple[Invoice, ...]:
    """A draft invoice for each account of *result* (or only *accounts*), in account order.

    *customers* maps account ids to customers; an account missing from it is billed to a
    customer named after the account. With ``empty="none"`` accounts without lines get no
    invoice.
    """
    customers = customers or {}
    wanted = None if accounts is None else set(accounts)
    if wanted is not None:
        missing = wanted - {b.account for b in result.bills}
        if missing:
            raise InvoiceError(
                f"no rated usage for account(s) {', '.join(sorted(missing))}; "
                f"accounts are {', '.join(b.account for b in result.bills)}"
            )
    out = []
    for bill in result.bills:
        if wanted is not None and bill.account not in wanted:
            continue
        customer = customers.get(bill.account) or Customer(id=bill.account, name=bill.account)
        invoice = assemble(
            result,
            customer,
            taxes=taxes,
            tax_method=tax_method,
            exchange_rate=exchange_rate,
            display_decimals=display_decimals,
            empty=empty,
        )
        if invoice is not None:
            out.append(invoice)
    return tuple(out)
