"""``invoice --customer``: an account must be one the usage or the customers file names.

>>> check_accounts(("acme",), {"acme", "globex"})
>>> check_accounts(("acmee",), {"acme", "globex"})
Traceback (most recent call last):
...
cloudrate.exceptions.InvoiceError: --customer acmee: no usage record and no entry of the \
customers file names this account, so its invoice would be empty; did you mean 'acme'? \
The accounts are: acme, globex
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable

from cloudrate.exceptions import InvoiceError

__all__ = ["LISTED", "check_accounts"]

#: Up to this many accounts are all listed in the error; beyond, the nearest only.
LISTED = 10


def check_accounts(asked: Iterable[str], known: Collection[str]) -> None:
    """Refuse the accounts of *asked* that are not in *known* (the accounts of the usage
    and of the customers file), naming the nearest ones and, when few, all of them.

    Raises:
        InvoiceError: for the first unknown account, naming the others too.
    """
    unknown = [account for account in dict.fromkeys(asked) if account not in known]
    if not unknown:
        return
    first = unknown[0]
    others = f" (nor {', '.join(unknown[1:])})" if len(unknown) > 1 else ""
    text = (
        f"--customer {first}: no usage record and no entry of the customers file names this "
        f"account{others}, so its invoice would be empty"
    )
    nearest = difflib.get_close_matches(first, sorted(known), n=3, cutoff=0.6)
    if nearest:
        text += f"; did you mean {' or '.join(map(repr, nearest))}?"
    else:
        text += "."
    if not known:
        text += " Neither the usage nor a customers file names any account"
    elif len(known) <= LISTED:
        text += f" The accounts are: {', '.join(sorted(known))}"
    else:
        shown = ", ".join(sorted(known)[:LISTED])
        text += f" There are {len(known)} accounts: {shown}, ..."
    raise InvoiceError(text)
