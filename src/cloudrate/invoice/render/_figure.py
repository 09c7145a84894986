"""What a renderer embeds as a chart: anything with a title and an SVG rendering.

:class:`cloudrate.portal.charts.Chart` is one; the renderers need nothing else of it, so
they name only this :class:`Figure` protocol, nothing of the portal.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Figure"]


@runtime_checkable
class Figure(Protocol):
    """A picture for an invoice: its *title* and its SVG image as UTF-8 bytes.

    >>> import attrs
    >>> @attrs.frozen
    ... class Dot:
    ...     title: str = "A dot"
    ...     def svg(self) -> bytes:
    ...         return b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>'
    >>> isinstance(Dot(), Figure)
    True
    """

    @property
    def title(self) -> str:
        """The caption shown with the picture."""
        ...

    def svg(self) -> bytes:
        """The picture as SVG, UTF-8 encoded."""
        ...
