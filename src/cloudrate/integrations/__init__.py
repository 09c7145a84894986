"""Other systems cloudrate reads from and writes to: Apache CloudStack usage
(:mod:`cloudrate.integrations.cloudstack`) and WHMCS invoices
(:mod:`cloudrate.integrations.whmcs`).
"""

import importlib
from types import ModuleType

_SUBMODULES = frozenset(["cloudstack", "whmcs"])

__all__: list[str] = []


def __getattr__(name: str) -> ModuleType:
    """Submodules load on first use: ``cloudrate.integrations.whmcs`` works without an import."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
