"""The files an e-invoice run reads: ``--seller`` and the ``einvoice:`` sections of
``--customers``, every scalar as the text written, every problem at once with its path.

The forms are in docs/einvoices.md ("On the command line").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from cloudrate.exceptions import CloudrateError, ConfigError, Problem
from cloudrate.invoice.einvoice import (
    Contact,
    ElectronicAddress,
    PartyDetails,
    PaymentInstructions,
    PostalAddress,
)
from cloudrate.invoice.render import Seller

__all__ = ["BuyerDetails", "load_seller", "read_buyer_details"]

_SELLER_KEYS = ("name", "address", "tax_id", "email", "website", "payment_details", "einvoice")
_PARTY_KEYS = ("address", "electronic_address", "contact", "legal_id")
_ADDRESS_KEYS = ("street", "city", "postcode", "subdivision", "country")
_PAYMENT_KEYS = ("code", "iban", "bic", "account_name")


@attrs.frozen
class BuyerDetails:
    """A customer's e-invoice details: the party's and the buyer reference (BT-10)."""

    details: PartyDetails = attrs.field(factory=PartyDetails)
    reference: str | None = None


class _Reader:
    """Reads a YAML document read as text, collecting every problem."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, path: str, code: str, message: str, value: object = None) -> None:
        self.problems.append(Problem(path, code, message, value, source=self.source))

    def mapping(self, value: Any, path: str, allowed: Sequence[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.add(path, "not_a_mapping", "expected a mapping of key: value")
            return {}
        for key in value:
            if key not in allowed:
                self.add(
                    f"{path}.{key}".lstrip("."),
                    "unknown_key",
                    f"unknown key; known keys are {', '.join(allowed)}",
                    key,
                )
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Any:
        value = data.get(key)
        where = f"{path}.{key}".lstrip(".")
        if value is None or value == "":
            if required:
                self.add(where, "missing", "required: give it as text")
            return None
        if not isinstance(value, str):
            self.add(where, "not_text", "expected text, not a list or mapping")
            return None
        return value

    def lines(self, data: Mapping[str, Any], key: str, path: str) -> tuple[str, ...] | str:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(x, str) for x in value)
        ):
            return value if isinstance(value, str) else tuple(value)
        self.add(f"{path}.{key}".lstrip("."), "not_text", "expected text or a list of lines")
        return ()

    def build(self, path: str, make: Callable[[], Any]) -> Any:
        """*make()*, or None with its error as a problem at *path*."""
        try:
            return make()
        except CloudrateError as exc:
            self.add(path, "bad_value", str(exc))
            return None

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems, source=self.source)


def _read_text_yaml(path: Path, reader: _Reader) -> Any:
    """The YAML (or JSON) file with every scalar as the text written."""
    try:
        text = path.read_text(encoding="utf-8")
        return yaml.load(text, Loader=yaml.BaseLoader)  # BaseLoader: text only
    except UnicodeDecodeError:
        reader.add("", "bad_encoding", "the file is not UTF-8 text")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        reader.problems.append(
            Problem("", "yaml_syntax", f"not YAML or JSON: {exc}", line=line, source=reader.source)
        )
    reader.raise_if_problems()
    return None  # pragma: no cover - raised above


def _address(r: _Reader, value: Any, path: str) -> PostalAddress | None:
    data = r.mapping(value, path, _ADDRESS_KEYS)
    street = r.lines(data, "street", path)
    fields = {k: r.text(data, k, path) for k in ("city", "postcode", "subdivision")}
    country = r.text(data, "country", path, required=True)
    if country is None:
        return None
    return r.build(path, lambda: PostalAddress(street=street, country=country, **fields))  # type: ignore[no-any-return]


def _party(r: _Reader, data: Mapping[str, Any], path: str) -> PartyDetails | None:
    address = (
        None if data.get("address") is None else _address(r, data["address"], f"{path}.address")
    )
    endpoint = None
    if data.get("electronic_address") is not None:
        where = f"{path}.electronic_address"
        raw = r.mapping(data["electronic_address"], where, ("scheme", "value"))
        scheme = r.text(raw, "scheme", where, required=True)
        value = r.text(raw, "value", where, required=True)
        if scheme is not None and value is not None:
            endpoint = r.build(where, lambda: ElectronicAddress(scheme=scheme, value=value))
    contact = None
    if data.get("contact") is not None:
        where = f"{path}.contact"
        raw = r.mapping(data["contact"], where, ("name", "phone", "email"))
        fields = {k: r.text(raw, k, where) for k in ("name", "phone", "email")}
        contact = r.build(where, lambda: Contact(**fields))
    legal_id = r.text(data, "legal_id", path)
    return r.build(  # type: ignore[no-any-return]
        path,
        lambda: PartyDetails(
            address=address, electronic_address=endpoint, contact=contact, legal_id=legal_id
        ),
    )


def load_seller(path: Path) -> tuple[Seller, PartyDetails, PaymentInstructions | None]:
    """The seller of ``--seller`` *path*: the :class:`Seller` the PDF prints, its
    e-invoice details and, when its ``einvoice.payment`` is given, the payment
    instructions (else they are read from its ``IBAN``/``BIC`` payment lines)."""
    r = _Reader(str(path))
    data = r.mapping(_read_text_yaml(path, r), "", _SELLER_KEYS)
    name = r.text(data, "name", "", required=True)
    printed = {
        "address": r.lines(data, "address", ""),
        "payment_details": r.lines(data, "payment_details", ""),
        **{k: r.text(data, k, "") for k in ("tax_id", "email", "website")},
    }
    einvoice = r.mapping(data.get("einvoice") or {}, "einvoice", (*_PARTY_KEYS, "payment"))
    details = _party(r, einvoice, "einvoice")
    payment = None
    if einvoice.get("payment") is not None:
        raw = r.mapping(einvoice["payment"], "einvoice.payment", _PAYMENT_KEYS)
        fields = {k: r.text(raw, k, "einvoice.payment") for k in _PAYMENT_KEYS}
        code = fields.pop("code") or "58"
        payment = r.build("einvoice.payment", lambda: PaymentInstructions(code=code, **fields))
    seller = None if name is None else r.build("", lambda: Seller(name=name, **printed))
    r.raise_if_problems()
    assert seller is not None and details is not None  # no problem: both were built
    return seller, details, payment


def _customer_entries(data: Any) -> Iterable[tuple[str, str, Any]]:
    """(account, path, fields) of each customer: the ``customers:`` list of the
    subscriptions form, or the mapping of account id to fields."""
    if isinstance(data, dict) and isinstance(data.get("customers"), list):
        for i, item in enumerate(data["customers"]):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                yield item["id"], f"customers[{i}]", item
        return
    if isinstance(data, dict):
        for account, fields in data.items():
            yield str(account), str(account), fields


def read_buyer_details(path: Path) -> dict[str, BuyerDetails]:
    """The ``einvoice:`` section of each customer of the customers file *path* (either
    form); customers without one get none. The rest of the file is read by the command's
    customers reader."""
    r = _Reader(str(path))
    out: dict[str, BuyerDetails] = {}
    for account, where, fields in _customer_entries(_read_text_yaml(path, r)):
        if not isinstance(fields, dict) or fields.get("einvoice") is None:
            continue
        section = f"{where}.einvoice"
        data = r.mapping(fields["einvoice"], section, (*_PARTY_KEYS, "buyer_reference"))
        details = _party(r, data, section)
        reference = r.text(data, "buyer_reference", section)
        if details is not None:
            out[account] = BuyerDetails(details, reference)
    r.raise_if_problems()
    return out
