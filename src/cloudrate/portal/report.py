"""Plain-text bills for terminals and logs, formatted with Babel in a locale you pass."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, format_decimal

from cloudrate.rating import AccountBill, RatingResult

__all__ = ["format_bill", "format_result"]


def _number(value: Decimal, locale: str, max_places: int = 4) -> str:
    """*value* grouped for *locale*, shown with at most *max_places* decimals.

    Only the display is shortened (half-up); amounts are computed from the exact value.
    """
    value = value.quantize(Decimal(1).scaleb(-max_places), rounding=ROUND_HALF_UP)
    exponent = value.normalize().as_tuple().exponent  # an int: *value* was quantized
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value.normalize() if places else value, format=pattern, locale=locale)


def _amount(value: Decimal, currency: str, locale: str) -> str:
    # Amounts are already rounded by the rating policy; Babel only formats them in the
    # locale's own pattern (18,00 € in de_DE) and, without decimal quantization, keeps
    # every digit the amount has, so it never rounds (it would round half-even).
    return format_currency(value, currency, locale=locale, decimal_quantization=False)


def format_bill(bill: AccountBill, result: RatingResult, locale: str = "en_US") -> str:
    """One account's bill as an aligned text table.

    >>> import cloudrate
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> result = cloudrate.rate(plan, cloudrate.read_usage(cloudrate.sample_usage_path()))
    >>> print(format_bill(result.bill("initech"), result).splitlines()[0])
    Account initech  ·  CloudStack Standard 2026.10  ·  period 2026-10 (Europe/Berlin)
    """
    cur = result.currency
    head = (
        f"Account {bill.account}  ·  {result.plan.name}"
        f"{' ' + result.plan.version if result.plan.version else ''}  ·  "
        f"period {result.period.label} ({result.period.timezone})"
    )
    rows = [("Charge", "Quantity", "Unit", "Unit price", "Amount")]
    for line in bill.lines:
        unit_price = "" if line.unit_price is None else _amount(line.unit_price.amount, cur, locale)
        quantity = _number(line.quantity, locale)
        if line.free_quantity:
            quantity += f" (+{_number(line.free_quantity, locale)} free)"
        rows.append(
            (
                line.description,
                quantity,
                line.unit,
                unit_price,
                _amount(line.rounded.amount, cur, locale),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    out = [head, ""]
    for number, row in enumerate(rows):
        out.append(
            "  ".join(
                cell.ljust(widths[i]) if i in (0, 2) else cell.rjust(widths[i])
                for i, cell in enumerate(row)
            ).rstrip()
        )
        if number == 0:
            out.append("  ".join("-" * w for w in widths))
    total = _amount(bill.total.amount, cur, locale)
    out.append("  ".join("-" * w for w in widths))
    width = sum(widths) + 8
    out.append(f"{'Total':<{width - len(total)}}{total}")
    return "\n".join(out)


def format_result(result: RatingResult, locale: str = "en_US") -> str:
    """Every bill of *result*, then the usage no charge priced."""
    parts = [format_bill(bill, result, locale) for bill in result.bills]
    if result.unpriced:
        notes = ["Usage not priced by any charge:"]
        notes += [
            f"  {u.metric}: {u.records} record(s), {u.reason} (accounts: {', '.join(u.accounts)})"
            for u in result.unpriced
        ]
        parts.append("\n".join(notes))
    total = _amount(result.total.amount, result.currency, locale)
    parts.append(f"Grand total for {len(result.bills)} account(s): {total}")
    return "\n\n".join(parts) + "\n"
