"""The words printed on an invoice, in English, German, French and Japanese.

A locale picks its language's labels (``de_DE`` and ``de_AT`` -> German); languages not
listed get English. Hosts pass ``labels={...}`` to the renderers to change any of them.
"""

from __future__ import annotations

from collections.abc import Mapping

from cloudrate.exceptions import NotFoundError

__all__ = ["LABELS", "labels_for"]

_EN = {
    "invoice": "Invoice",
    "draft": "Draft",
    "number": "Invoice number",
    "issued": "Issue date",
    "due": "Due date",
    "period": "Billing period",
    "customer_id": "Customer ID",
    "bill_to": "Bill to",
    "from": "From",
    "tax_id": "VAT ID",
    "description": "Description",
    "quantity": "Quantity",
    "unit": "Unit",
    "unit_price": "Unit price",
    "amount": "Amount",
    "tax": "Tax",
    "subtotal": "Subtotal",
    "total": "Total",
    "paid": "Paid",
    "credited": "Credited",
    "amount_due": "Amount due",
    "credit_balance": "Credit balance",
    "terms": "Payment terms",
    "status": "Status",
    "payment": "Payment details",
    "tax_on": "on",
    "notes": "Notes",
    "page": "Page",
    "exchange": "Total in {currency} at {rate} ({source}, {on})",
    "please_pay": "Please pay {amount} by {due}.",
    "usage": "Usage",
    "status_paid": "Paid",
    "status_unpaid": "Unpaid",
    "status_overdue": "Overdue",
    "status_draft": "Draft",
    "status_void": "Void",
}

_DE = {
    "invoice": "Rechnung",
    "draft": "Entwurf",
    "number": "Rechnungsnummer",
    "issued": "Rechnungsdatum",
    "due": "Fällig am",
    "period": "Leistungszeitraum",
    "customer_id": "Kundennummer",
    "bill_to": "Rechnung an",
    "from": "Von",
    "tax_id": "USt-IdNr.",
    "description": "Beschreibung",
    "quantity": "Menge",
    "unit": "Einheit",
    "unit_price": "Einzelpreis",
    "amount": "Betrag",
    "tax": "Steuer",
    "subtotal": "Zwischensumme",
    "total": "Gesamtbetrag",
    "paid": "Bezahlt",
    "credited": "Gutgeschrieben",
    "amount_due": "Offener Betrag",
    "credit_balance": "Guthaben",
    "terms": "Zahlungsbedingungen",
    "status": "Status",
    "payment": "Zahlungsinformationen",
    "tax_on": "auf",
    "notes": "Hinweise",
    "page": "Seite",
    "exchange": "Gesamtbetrag in {currency} zum Kurs {rate} ({source}, {on})",
    "please_pay": "Bitte zahlen Sie {amount} bis zum {due}.",
    "usage": "Nutzung",
    "status_paid": "Bezahlt",
    "status_unpaid": "Offen",
    "status_overdue": "Überfällig",
    "status_draft": "Entwurf",
    "status_void": "Storniert",
}

_FR = {
    "invoice": "Facture",
    "draft": "Brouillon",
    "number": "Numéro de facture",
    "issued": "Date de facture",
    "due": "Date d'échéance",
    "period": "Période de facturation",
    "customer_id": "Numéro client",
    "bill_to": "Facturé à",
    "from": "De",
    "tax_id": "N° de TVA",
    "description": "Désignation",
    "quantity": "Quantité",
    "unit": "Unité",
    "unit_price": "Prix unitaire",
    "amount": "Montant",
    "tax": "Taxe",
    "subtotal": "Sous-total",
    "total": "Total",
    "paid": "Payé",
    "credited": "Avoir",
    "amount_due": "Reste à payer",
    "credit_balance": "Solde créditeur",
    "terms": "Conditions de paiement",
    "status": "Statut",
    "payment": "Coordonnées de paiement",
    "tax_on": "sur",
    "notes": "Mentions",
    "page": "Page",
    "exchange": "Total en {currency} au taux {rate} ({source}, {on})",
    "please_pay": "Merci de régler {amount} avant le {due}.",
    "usage": "Consommation",
    "status_paid": "Payée",
    "status_unpaid": "Impayée",
    "status_overdue": "En retard",
    "status_draft": "Brouillon",
    "status_void": "Annulée",
}

_JA = {
    "invoice": "請求書",
    "draft": "下書き",
    "number": "請求書番号",
    "issued": "発行日",
    "due": "支払期日",
    "period": "請求期間",
    "customer_id": "顧客ID",
    "bill_to": "請求先",
    "from": "発行元",
    "tax_id": "登録番号",
    "description": "内容",
    "quantity": "数量",
    "unit": "単位",
    "unit_price": "単価",
    "amount": "金額",
    "tax": "税",
    "subtotal": "小計",
    "total": "合計",
    "paid": "支払済",
    "credited": "返金",
    "amount_due": "請求残高",
    "credit_balance": "過払い残高",
    "terms": "支払条件",
    "status": "状態",
    "payment": "お振込先",
    "tax_on": "対象",
    "notes": "備考",
    "page": "ページ",
    "exchange": "{currency}換算合計 レート {rate}（{source}、{on}）",  # noqa: RUF001
    "please_pay": "{due}までに{amount}をお支払いください。",
    "usage": "利用状況",
    "status_paid": "支払済",
    "status_unpaid": "未払い",
    "status_overdue": "期限超過",
    "status_draft": "下書き",
    "status_void": "無効",
}

#: Labels by language code.
LABELS: Mapping[str, Mapping[str, str]] = {"en": _EN, "de": _DE, "fr": _FR, "ja": _JA}


def labels_for(locale: str, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The labels for *locale*'s language, with *overrides* on top.

    >>> labels_for("de_DE")["invoice"], labels_for("en_IN")["invoice"]
    ('Rechnung', 'Invoice')
    >>> labels_for("fr_FR", {"invoice": "Facture de services"})["invoice"]
    'Facture de services'
    """
    language = locale.replace("-", "_").split("_", 1)[0].lower()
    out = dict(_EN)
    out.update(LABELS.get(language, {}))
    if overrides:
        unknown = set(overrides) - set(_EN)
        if unknown:
            raise NotFoundError(
                f"unknown invoice label(s) {sorted(unknown)}; labels are {', '.join(sorted(_EN))}"
            )
        out.update(overrides)
    return out
