"""Fonts for PDF invoices and charts, shipped by PyPI packages of the ``pdf`` extra.

``pip install 'cloudrate[pdf]'`` brings Noto Sans (Latin, Greek, Cyrillic, Vietnamese),
Noto Sans CJK (Chinese, Japanese, Korean) and Noto Sans Arabic, Devanagari and Thai.
Renderers never read the machine's fonts unless told to, so the same invoice gives the
same bytes everywhere; hosts add fonts with ``font_paths`` (see docs/rendering.md).
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

__all__ = ["FONT_PACKAGES", "font_directories", "font_families", "latin_family"]

#: (module, family) of each font package, in fallback order: Latin first, then CJK,
#: then the other scripts.
FONT_PACKAGES = (
    ("fontpkg_noto_sans", "Noto Sans"),
    ("cvttf_NotoSansCJK_Regular", "Noto Sans CJK TC"),
    ("fontpkg_noto_sans_arabic", "Noto Sans Arabic"),
    ("fontpkg_noto_sans_devanagari", "Noto Sans Devanagari"),
    ("fontpkg_noto_sans_thai", "Noto Sans Thai"),
)


def _directory(module_name: str) -> Path | None:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    root = Path(module.__file__ or "").resolve().parent
    files = root / "files"
    return files if files.is_dir() else root


@functools.cache
def _installed() -> tuple[tuple[Path, str], ...]:
    found = []
    for module_name, family in FONT_PACKAGES:
        directory = _directory(module_name)
        if directory is not None:
            found.append((directory, family))
    return tuple(found)


def font_directories() -> tuple[Path, ...]:
    """Folders holding the installed font packages' files."""
    return tuple(d for d, _ in _installed())


def font_families() -> tuple[str, ...]:
    """Families of the installed font packages, in fallback order."""
    return tuple(f for _, f in _installed())


def latin_family() -> str:
    """The family for Latin text: Noto Sans when installed, else a generic sans-serif."""
    families = font_families()
    return "Noto Sans" if "Noto Sans" in families else "sans-serif"
