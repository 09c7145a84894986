"""Capability flags a portal reads to show or hide parts of its UI."""

from __future__ import annotations

import attrs

__all__ = ["Capabilities"]


@attrs.frozen(kw_only=True)
class Capabilities:
    """What the portal offers: paying invoices in the portal, the Invoices menu, the
    WHMCS billing integration, the choices its signup and admin screens show, and the
    indicators its IP screens show (whether a default, first or secondary IP is charged).

    >>> Capabilities(whmcs_billing=True).whmcs_billing
    True
    """

    portal_payment: bool = True
    invoice_menu: bool = True
    whmcs_billing: bool = False
    multi_currency: bool = False
    currencies: tuple[str, ...] = ()
    contract_type_choice: bool = False
    signup_payment: bool = False
    prepaid_hourly_billing: bool = False
    negative_balance_display: bool = False
    verification_refund: bool = False
    budget_alerts: bool = True
    default_ip_charged: bool = True
    first_ip_free: bool = False
    secondary_ip_billed: bool = True
    cost_decimals: int = 2

    def to_dict(self) -> dict[str, object]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in attrs.asdict(self).items()}
