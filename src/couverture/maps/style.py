"""The look of a map as one object: :class:`MapStyle`, taken by every map function as ``style=``.

A map function of couverture has many presentation keywords (classes,
palette, legend, page, borders, inset, tiles...). A :class:`MapStyle` groups
them, so that a chart of the atlas, a report and a notebook share one look::

    style = MapStyle(scheme="jenks", k=6, palette="YlOrRd", inset=None, figsize="A3")
    cv.maps.choropleth(units, "distance_km", style=style)
    cv.maps.interactive(units, "distance_km", style=style)

A field left to None keeps the function's own default; a keyword given to
the function wins over the style (the keywords of the previous release keep
working unchanged). Fields a function does not know are ignored by it
(``tiles`` for a printed map, ``max_size`` for a choropleth).

Examples
--------
>>> s = MapStyle(k=3, palette="Greens")
>>> s.options_for(lambda gdf, column, k=5, palette=None, title=None: None)
{'k': 3, 'palette': 'Greens'}
>>> s.replace(k=4).k
4
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

__all__ = ["MapStyle", "styled"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class MapStyle:
    """Presentation of a map; None: the map function's default.

    Attributes
    ----------
    scheme, k, bins, palette, reverse, scale, decimals
        Classification (see :class:`couverture.maps.Classification`).
    title, subtitle, unit, legend_title, legend_counts, sources
        Texts of the map and its legend.
    outline, labels, label_col, inset
        Département outline, labels of the main places, zoomed inset.
    figsize, edgecolor, linewidth
        Page and unit borders (printed maps).
    color, max_size
        Circles of :func:`couverture.maps.proportional_symbols`.
    tiles, attr, opacity, background, legend_position, fullscreen, width, height
        Web maps (:func:`couverture.maps.interactive`).
    """

    scheme: str | None = None
    k: int | None = None
    bins: Sequence[float] | None = None
    palette: str | None = None
    reverse: bool | None = None
    scale: float | None = None
    decimals: int | None = None
    title: str | None = None
    subtitle: str | None = None
    unit: str | None = None
    legend_title: str | None = None
    legend_counts: bool | None = None
    sources: str | None = None
    outline: bool | None = None
    labels: Any = None
    label_col: str | None = None
    inset: Any = None
    figsize: Any = None
    edgecolor: str | None = None
    linewidth: float | None = None
    color: str | None = None
    max_size: float | None = None
    tiles: str | None = None
    attr: str | None = None
    opacity: float | None = None
    background: str | None = None
    legend_position: str | None = None
    fullscreen: bool | None = None
    width: Any = None
    height: Any = None

    def replace(self, **changes: Any) -> MapStyle:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def options_for(self, func: Callable[..., Any]) -> dict[str, Any]:
        """The fields set (not None) that ``func`` takes as keywords."""
        accepted = set(inspect.signature(func).parameters)
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not None and f.name in accepted
        }


def styled(func: F) -> F:
    """Give a map function a ``style=`` keyword (a :class:`MapStyle`); its other keywords are unchanged.

    The style fills the keywords the caller did not give, so a keyword given
    explicitly always wins.
    """
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args: Any, style: MapStyle | None = None, **kwargs: Any) -> Any:
        if style is not None:
            if not isinstance(style, MapStyle):
                from ..errors import InputError

                raise InputError(f"style : un MapStyle est attendu, reçu {type(style).__name__}")
            given = signature.bind_partial(*args, **kwargs).arguments
            for name, value in style.options_for(func).items():
                if name not in given:
                    kwargs[name] = value
        return func(*args, **kwargs)

    params = list(signature.parameters.values())
    params.append(
        inspect.Parameter("style", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="MapStyle | None")
    )
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
