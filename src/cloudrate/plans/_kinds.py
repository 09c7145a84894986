"""The one registry of charge kinds: the loader, the dumper and both rating engines read it.

A new charge model is one module (its keys, reader, scalar price and, when priced on
usage, its vectorised twin) plus one entry here.

>>> sorted(MODELS)
['flat', 'graduated', 'graduated_transaction_percentage', 'minimum', 'one_off', 'package', \
'per_unit', 'percentage', 'transaction_percentage', 'volume']
>>> MODELS["graduated"].basis
'usage'
"""

from __future__ import annotations

from ._flat import Flat
from ._graduated import Graduated
from ._graduated_transaction_percentage import GraduatedTransactionPercentage
from ._minimum import Minimum
from ._model import Basis, ChargeModel
from ._one_off import OneOff
from ._package import Package
from ._per_unit import PerUnit
from ._percentage import Percentage
from ._transaction_percentage import TransactionPercentage
from ._volume import Volume

__all__ = ["MODELS", "kinds_of"]

#: Every charge model by its plan-file ``model`` name, in the order the docs list them.
MODELS: dict[str, type[ChargeModel]] = {
    model.kind: model
    for model in (
        PerUnit,
        Graduated,
        Volume,
        Package,
        OneOff,
        TransactionPercentage,
        GraduatedTransactionPercentage,
        Flat,
        Percentage,
        Minimum,
    )
}


def kinds_of(*bases: Basis) -> tuple[str, ...]:
    """The kinds of the models that price on one of *bases*.

    >>> kinds_of("charges", "spend")
    ('percentage', 'minimum')
    """
    return tuple(kind for kind, model in MODELS.items() if model.basis in bases)
