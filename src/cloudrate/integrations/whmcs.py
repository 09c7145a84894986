"""Export a bill as the parameters of WHMCS's ``CreateInvoice`` API action.

WHMCS (``POST includes/api.php``, ``action=CreateInvoice``) takes form fields:
``userid`` (required), ``status``, ``draft``, ``sendinvoice``, ``paymentmethod``,
``taxrate``, ``taxrate2``, ``date`` and ``duedate`` (``YYYY-mm-dd``), ``notes``,
``autoapplycredit`` and, for each item *X* = 1, 2, ...: ``itemdescriptionX``,
``itemamountX``, ``itemtaxedX``. Authentication fields (``identifier``/``secret`` or
``username``/``password``) and ``responsetype`` are the host's to add.

WHMCS invoices in the client's own currency (set on the client in WHMCS); there is no
currency field, so :func:`whmcs_invoice` refuses a bill in another currency than the
one the host says the client uses. Amounts are written as exact decimal strings of the
rounded (settled) lines, so WHMCS's total equals the bill's total.
"""

from __future__ import annotations

from datetime import date

from cloudrate.exceptions import CurrencyMismatchError, PlanError
from cloudrate.rating import AccountBill, RatedLine

__all__ = ["whmcs_invoice"]


def _description(line: RatedLine, period_label: str | None) -> str:
    text = line.description
    if line.kind == "charge" and line.unit_price is not None and line.quantity:
        text += f" ({line.quantity.normalize():f} {line.unit} x {line.unit_price.amount})"
    if period_label:
        text += f" - {period_label}"
    return text


def whmcs_invoice(
    bill: AccountBill,
    *,
    userid: int,
    client_currency: str,
    date: date,
    duedate: date,
    period_label: str | None = None,
    status: str = "Unpaid",
    draft: bool = False,
    sendinvoice: bool = False,
    paymentmethod: str | None = None,
    taxed: bool = False,
    notes: str | None = None,
    autoapplycredit: bool = False,
    skip_zero: bool = False,
) -> dict[str, str]:
    """The form fields of a WHMCS ``CreateInvoice`` call for *bill*.

    >>> import cloudrate, datetime
    >>> plan = cloudrate.load_plan(cloudrate.sample_plan_path())
    >>> usage = cloudrate.read_usage(cloudrate.sample_usage_path())
    >>> bill = cloudrate.rate(plan, usage).bill("acme")
    >>> fields = whmcs_invoice(bill, userid=42, client_currency="EUR",
    ...                        date=datetime.date(2026, 11, 1), duedate=datetime.date(2026, 11, 15))
    >>> fields["action"], fields["userid"], fields["itemdescription1"], fields["itemamount1"]
    ('CreateInvoice', '42', 'vCPU (4735 vCPU-hour x 0.0125)', '59.19')
    """
    currency = str(bill.total.currency.code)
    if currency != client_currency:
        raise CurrencyMismatchError(
            client_currency,
            currency,
            f"bill of {bill.account!r}",
            fix="convert the bill to the WHMCS client's currency first (cloudrate.fx)",
        )
    if draft and sendinvoice:
        raise PlanError("WHMCS cannot send a draft invoice: pass draft or sendinvoice, not both")
    if isinstance(userid, bool) or not isinstance(userid, int) or userid <= 0:
        raise PlanError(f"userid: the WHMCS client id, a whole number above 0 (got {userid!r})")
    fields: dict[str, str] = {"action": "CreateInvoice", "userid": str(userid)}
    if draft:
        fields["draft"] = "1"
    else:
        fields["status"] = status
        fields["sendinvoice"] = "1" if sendinvoice else "0"
    if paymentmethod:
        fields["paymentmethod"] = paymentmethod
    fields["date"] = date.isoformat()
    fields["duedate"] = duedate.isoformat()
    if notes:
        fields["notes"] = notes
    fields["autoapplycredit"] = "1" if autoapplycredit else "0"
    index = 0
    for line in bill.lines:
        if skip_zero and line.rounded.amount == 0:
            continue
        index += 1
        fields[f"itemdescription{index}"] = _description(line, period_label)
        fields[f"itemamount{index}"] = f"{line.rounded.amount:f}"
        fields[f"itemtaxed{index}"] = "1" if taxed and line.kind == "charge" else "0"
    return fields
