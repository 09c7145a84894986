"""Reading a feature configuration's blocks of settings, and merging them in order.

The top level, its account-type blocks, each tenant and each tenant's account-type
blocks are read alike: every unknown key and bad value is noted on the document, with
its path, and the block keeps the values that could be read.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from cloudrate._documents import Document, join_path

from ._feature_spec import ACCOUNT_TYPES, DEFAULTS, FOLLOWS, SPEC, Group

__all__ = ["Block", "Blocks", "merge", "read_blocks"]

#: The keys of the top level that hold blocks, not settings.
_TOP_BLOCKS = (*ACCOUNT_TYPES, "tenants")
#: Nothing to keep for a setting: it was unknown or wrong, and a problem says so.
_NOTHING: Any = object()

#: A block of settings as read (path, values); blocks are keyed by (tenant, account type).
Block = tuple[str, dict[str, Any]]
Blocks = dict[tuple[str | None, str | None], Block]


def _unknown(
    doc: Document, where: str, key: object, known: tuple[str, ...], noun: str, otherwise: str
) -> None:
    """Report the unknown *key*, suggesting the nearest of *known* (else *otherwise*)."""
    near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else otherwise
    doc.problem(where, "unknown_key", f"unknown {noun}{hint}", key)


def _read_group(doc: Document, group: Group, value: Any, where: str) -> Any:
    """A grouped setting as a mapping of its sub-keys. A bare value sets the first: a
    true/false, or any value the first sub-key reads when it is not a switch
    (``cost_decimals: 4``), whose error is then the setting's own."""
    first = next(iter(group))
    parser, default = group[first]
    switch = isinstance(default, bool)  # the first sub-key turns the feature on or off
    if not isinstance(value, Mapping) and not isinstance(value, bool) and not switch:
        parsed, error = parser(value)
        if error:
            doc.problem(where, "bad_value", error, value)
            return _NOTHING
        return {first: parsed}
    if isinstance(value, bool):
        value = {first: value}
    if not isinstance(value, Mapping):
        doc.problem(
            where,
            "not_a_mapping",
            f"expected true/false or a mapping of {', '.join(group)}",
            value,
        )
        return _NOTHING
    out: dict[str, Any] = {}
    for sub, sub_value in value.items():
        sub_where = f"{where}.{sub}"
        setting = group.get(sub)
        if setting is None:
            known = tuple(group)
            _unknown(doc, sub_where, sub, known, "key", f"; known keys are {', '.join(known)}")
            continue
        parsed, error = (None, None) if sub_value is None else setting[0](sub_value)
        if error:
            doc.problem(sub_where, "bad_value", error, sub_value)
        else:
            out[sub] = parsed
    return out


def _read_setting(
    doc: Document, key: object, value: Any, where: str, known: tuple[str, ...]
) -> Any:
    """The setting *key* read from *value*, or :data:`_NOTHING` when a problem was noted."""
    spec = SPEC.get(key) if isinstance(key, str) else None
    if spec is None:
        _unknown(
            doc,
            where,
            key,
            known,
            "setting",
            "; see docs/feature-configuration.md for the settings",
        )
        return _NOTHING
    if isinstance(spec, dict):
        return _read_group(doc, spec, value, where)
    parser, default = spec
    parsed, error = (None, None) if value is None and default is None else parser(value)
    if error:
        doc.problem(where, "bad_value", error, value)
        return _NOTHING
    return parsed


def _read_block(doc: Document, data: Any, path: str, blocks: tuple[str, ...]) -> dict[str, Any]:
    """Parse one block of settings, skipping the keys of nested *blocks*; problems go to
    *doc*."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        doc.problem(path, "not_a_mapping", "expected a mapping of setting: value")
        return {}
    known = (*SPEC, *blocks)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in blocks:
            continue
        parsed = _read_setting(doc, key, value, join_path(path, str(key)), known)
        if parsed is not _NOTHING:
            out[key] = parsed
    return out


def _read_tenants(doc: Document, tenants: Any) -> Blocks:
    """The blocks of every tenant: its own settings and its account-type overrides."""
    if not isinstance(tenants, Mapping):
        doc.problem("tenants", "not_a_mapping", "expected tenant-name: settings")
        return {}
    blocks: Blocks = {}
    for name, data in tenants.items():
        path = f"tenants.{name}"
        blocks[(str(name), None)] = (path, _read_block(doc, data, path, ACCOUNT_TYPES))
        for kind in ACCOUNT_TYPES:
            sub = data.get(kind) if isinstance(data, Mapping) else None
            blocks[(str(name), kind)] = (
                f"{path}.{kind}",
                _read_block(doc, sub, f"{path}.{kind}", ()),
            )
    return blocks


def read_blocks(doc: Document, data: Any) -> Blocks:
    """Every block of the document, by (tenant, account type); ``None`` is the top level."""
    blocks: Blocks = {(None, None): ("", _read_block(doc, data, "", _TOP_BLOCKS))}
    if not isinstance(data, Mapping):
        return blocks
    if "currency" not in data:
        doc.problem(
            "currency",
            "missing",
            "currency is required: the default currency prices and bills are in, such as EUR",
        )
    for kind in ACCOUNT_TYPES:
        blocks[(None, kind)] = (kind, _read_block(doc, data.get(kind), kind, ()))
    blocks.update(_read_tenants(doc, data.get("tenants") or {}))
    return blocks


def merge(*blocks: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults overridden by *blocks* in order; a grouped setting is merged key by key."""
    merged: dict[str, Any] = {
        k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()
    }
    for block in blocks:
        for key, value in block.items():
            if isinstance(SPEC[key], dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    for (key, sub), leader in FOLLOWS.items():
        if merged[key][sub] is None:
            merged[key][sub] = merged[key][leader]
    return merged
