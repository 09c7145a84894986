"""What an e-invoice needs beyond the invoice: structured addresses, electronic addresses,
contacts, payment instructions and the buyer's reference.

:class:`~cloudrate.invoice.Customer` and :class:`~cloudrate.invoice.render.Seller` keep an
address as printed lines, which is what a PDF needs; EN 16931 wants the city, postcode and
country apart (BT-37..40, BT-52..55), and XRechnung and Peppol want electronic addresses
(BT-34, BT-49). cloudrate does not guess them from printed lines: a host passes them here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from cloudrate.exceptions import InvoiceError

__all__ = ["Contact", "ElectronicAddress", "PartyDetails", "PaymentInstructions", "PostalAddress"]


def _lines(value: Sequence[str] | str) -> tuple[str, ...]:
    lines = tuple(value.splitlines()) if isinstance(value, str) else tuple(value)
    if len(lines) > 3 or not all(isinstance(x, str) and x.strip() for x in lines):
        raise InvoiceError(
            f"postal address street: at most 3 non-empty lines (BT-35, BT-36, BT-162), "
            f"got {lines!r}; put the postcode, city and country in their own fields"
        )
    return lines


def _country(value: str) -> str:
    code = str(value).strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise InvoiceError(
            f'postal address country: an ISO 3166 alpha-2 code such as "DE" (got {value!r})'
        )
    return code


def _optional_text(_inst: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvoiceError(f"{attribute.name}: text or None (got {value!r})")


def _required_text(_inst: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvoiceError(f"{attribute.name}: must be non-empty text (got {value!r})")


@attrs.frozen(kw_only=True)
class PostalAddress:
    """A postal address as EN 16931 wants it (BG-5 seller, BG-8 buyer).

    >>> PostalAddress(street="Wolkenweg 12", postcode="10115", city="Berlin", country="de")
    PostalAddress(street=('Wolkenweg 12',), city='Berlin', postcode='10115', \
subdivision=None, country='DE')
    """

    street: tuple[str, ...] = attrs.field(default=(), converter=_lines)
    city: str | None = attrs.field(default=None, validator=_optional_text)
    postcode: str | None = attrs.field(default=None, validator=_optional_text)
    subdivision: str | None = attrs.field(default=None, validator=_optional_text)
    country: str = attrs.field(converter=_country)


def _scheme(_inst: object, _attr: object, value: str) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}|EM", value):
        raise InvoiceError(
            f"electronic address scheme: an EAS code, four digits such as '0088' (GLN), "
            f"'9930' (German VAT number), '0204' (Leitweg-ID), or 'EM' for e-mail (got {value!r})"
        )


@attrs.frozen(kw_only=True)
class ElectronicAddress:
    """An electronic address (BT-34 seller, BT-49 buyer) with its EAS scheme code.

    >>> ElectronicAddress(scheme="0204", value="991-12345-67")
    ElectronicAddress(scheme='0204', value='991-12345-67')
    >>> ElectronicAddress.email("billing@cloud.example").scheme
    'EM'
    """

    scheme: str = attrs.field(validator=_scheme)
    value: str = attrs.field(validator=_required_text)

    @classmethod
    def email(cls, address: str) -> ElectronicAddress:
        """An e-mail address as an electronic address (EAS code ``EM``)."""
        return cls(scheme="EM", value=address)


@attrs.frozen(kw_only=True)
class Contact:
    """A contact point (BG-6 seller, BG-9 buyer): name, telephone, e-mail."""

    name: str | None = attrs.field(default=None, validator=_optional_text)
    phone: str | None = attrs.field(default=None, validator=_optional_text)
    email: str | None = attrs.field(default=None, validator=_optional_text)


@attrs.frozen(kw_only=True)
class PartyDetails:
    """The e-invoice details of a seller or a buyer that the invoice model does not hold.

    Each field is optional here; which ones a profile requires is checked when a document
    is written, and every missing one is named at once.
    """

    address: PostalAddress | None = None
    electronic_address: ElectronicAddress | None = None
    contact: Contact | None = None
    legal_id: str | None = attrs.field(default=None, validator=_optional_text)


def _iban(value: str | None) -> str | None:
    return None if value is None else re.sub(r"\s+", "", str(value)).upper()


@attrs.frozen(kw_only=True)
class PaymentInstructions:
    """How the buyer pays (BG-16): a UNTDID 4461 means code (``58`` SEPA credit transfer,
    ``30`` credit transfer, ``59`` SEPA direct debit...), the account (BT-84) and BIC
    (BT-86). Spaces in the IBAN are removed.

    >>> PaymentInstructions(iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX").iban
    'DE89370400440532013000'
    """

    code: str = "58"
    iban: str | None = attrs.field(default=None, converter=_iban)
    bic: str | None = attrs.field(default=None, validator=_optional_text)
    account_name: str | None = attrs.field(default=None, validator=_optional_text)
    remittance: str | None = attrs.field(default=None, validator=_optional_text)

    @classmethod
    def from_lines(cls, lines: Sequence[str]) -> PaymentInstructions | None:
        """Read ``IBAN ...`` and ``BIC ...`` lines (a seller's *payment_details*); None
        when there is no IBAN line. Other lines are ignored.

        >>> PaymentInstructions.from_lines(["IBAN DE89 3704 0044 0532 0130 00", "BIC COBADEFFXXX"])
        PaymentInstructions(code='58', iban='DE89370400440532013000', bic='COBADEFFXXX', \
account_name=None, remittance=None)
        """
        found: dict[str, str] = {}
        for line in lines:
            match = re.fullmatch(r"\s*(IBAN|BIC)\s*:?\s*(\S.*?)\s*", line, re.IGNORECASE)
            if match:
                found.setdefault(match.group(1).upper(), match.group(2))
        if "IBAN" not in found:
            return None
        return cls(iban=found["IBAN"], bic=found.get("BIC"))
