"""The code values an e-invoice carries: profiles, document types, units, VAT exemptions."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "CUSTOMIZATION",
    "FORMATS",
    "PEPPOL_PROCESS",
    "PROFILES",
    "SYNTAXES",
    "VATEX",
    "Format",
    "Profile",
    "Syntax",
    "unit_code",
]

#: The customisations cloudrate writes: plain EN 16931, the German CIUS XRechnung 3.0,
#: Peppol BIS Billing 3.0, and Factur-X / ZUGFeRD at its EN 16931 profile.
Profile = Literal["en16931", "xrechnung", "peppol", "facturx"]
PROFILES: tuple[Profile, ...] = get_args(Profile)

#: The two syntaxes EN 16931 names: OASIS UBL 2.1 and UN/CEFACT CII D16B.
Syntax = Literal["ubl", "cii"]
SYNTAXES: tuple[Syntax, ...] = get_args(Syntax)

#: The formats :func:`write_einvoice` writes (what ``--format`` takes).
Format = Literal["ubl", "cii", "xrechnung", "xrechnung-cii", "peppol", "facturx"]
FORMATS: dict[Format, tuple[Syntax, Profile]] = {
    "ubl": ("ubl", "en16931"),
    "cii": ("cii", "en16931"),
    "xrechnung": ("ubl", "xrechnung"),
    "xrechnung-cii": ("cii", "xrechnung"),
    "peppol": ("ubl", "peppol"),
    "facturx": ("cii", "facturx"),
}

#: BT-24, the specification identifier of each profile.
CUSTOMIZATION: dict[Profile, str] = {
    "en16931": "urn:cen.eu:en16931:2017",
    "xrechnung": "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
    "peppol": "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
    "facturx": "urn:cen.eu:en16931:2017",
}

#: BT-23, the business process: Peppol requires one (billing process 01).
PEPPOL_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

#: VAT exemption reason codes (VATEX, BT-121) and a default reason text (BT-120) for the
#: categories that require one. Category E has no single code: its reason is the rate's note.
VATEX: dict[str, tuple[str, str]] = {
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "K": ("VATEX-EU-IC", "Intra-Community supply"),
    "G": ("VATEX-EU-G", "Export outside the EU"),
    "O": ("VATEX-EU-O", "Not subject to VAT"),
}

# UN/ECE Recommendation 20 codes for the units cloudrate plans commonly use; any other
# unit is written as C62 ("one") with the unit's name in the item description.
_UNITS = {
    "h": "HUR",
    "hour": "HUR",
    "hours": "HUR",
    "min": "MIN",
    "minute": "MIN",
    "s": "SEC",
    "second": "SEC",
    "day": "DAY",
    "month": "MON",
    "gb": "E34",
    "tb": "E35",
    "mb": "4L",
}


def unit_code(unit: str) -> str:
    """The UN/ECE Recommendation 20 code of *unit*, ``C62`` when it has none here.

    >>> unit_code("GB"), unit_code("hour"), unit_code("vCPU-hour")
    ('E34', 'HUR', 'C62')
    """
    return _UNITS.get(unit.strip().lower(), "C62")
