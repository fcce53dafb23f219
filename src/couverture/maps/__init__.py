"""couverture.maps: classification, static maps (matplotlib), interactive maps (folium), light web layers.

Names are imported lazily, so ``import couverture.maps`` loads neither
matplotlib nor folium until a map is drawn.

- :class:`Classification` (module ``maps.classify``, whose :func:`classify`
  is a shortcut): mapclassify breaks, ColorBrewer palettes, French legend
  labels (``≤ 2 km``, ``12 345``, ``3,5 %``).
- :func:`choropleth`, :func:`proportional_symbols`, :func:`save_figure`:
  print-ready A4/A3 maps, PNG/SVG/PDF.
- :func:`interactive`, :func:`save_map`, :func:`asset_urls`: Leaflet maps that
  work offline.
- :func:`web_geometries`, :func:`simplify_coverage`, :func:`to_topojson`: light
  geometries for pages.
- :func:`plot_lorenz`, :func:`plot_distance_distribution`,
  :func:`plot_coverage_bars`: charts of the analysis (``maps.plots``).

Examples
--------
>>> from couverture import maps
>>> maps.Classification([1, 2, 3, 4], "quantiles", k=2).bins.tolist()
[2.5, 4.0]
>>> maps.classify.classify([1, 2, 3, 4], "jenks", k=2).counts.tolist()
[2, 2]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    # classification and formatting
    "Classification": "couverture.maps.classify",
    "palette": "couverture.maps.classify",
    "SCHEMES": "couverture.maps.classify",
    "SEQUENTIAL_PALETTES": "couverture.maps.classify",
    "DIVERGING_PALETTES": "couverture.maps.classify",
    "format_number": "couverture.maps._format",
    "format_value": "couverture.maps._format",
    # static maps
    "choropleth": "couverture.maps.static",
    "proportional_symbols": "couverture.maps.static",
    "save_figure": "couverture.maps.static",
    # interactive maps
    "interactive": "couverture.maps.interactive",
    "save_map": "couverture.maps.interactive",
    "asset_urls": "couverture.maps.interactive",
    # web geometries
    "web_geometries": "couverture.maps.web",
    "clean_coverage": "couverture.maps.web",
    "simplify_coverage": "couverture.maps.web",
    "coverage_defects": "couverture.maps.web",
    "to_topojson": "couverture.maps.web",
    # charts of the analysis layer (maps/plots.py)
    "plot_lorenz": "couverture.maps.plots",
    "plot_distance_distribution": "couverture.maps.plots",
    "plot_coverage_bars": "couverture.maps.plots",
    # issue 15: drive-time areas
    "drive_time_map": "couverture.maps.travel",
    "drive_time_folium": "couverture.maps.travel",
    # the look of a map (maps/style.py)
    "MapStyle": "couverture.maps.style",
    # what-if scenario (maps/whatif.py)
    "whatif_map": "couverture.maps.whatif",
}

_SUBMODULES = {"classify", "static", "interactive", "web", "plots", "travel", "whatif", "style"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(_EXPORTS[name])
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"couverture.maps.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'couverture.maps' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, *_SUBMODULES])


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from . import classify
    from ._format import format_number, format_value
    from .classify import DIVERGING_PALETTES, SCHEMES, SEQUENTIAL_PALETTES, Classification, palette
    from .interactive import asset_urls, interactive, save_map
    from .plots import plot_coverage_bars, plot_distance_distribution, plot_lorenz
    from .static import choropleth, proportional_symbols, save_figure
    from .style import MapStyle
    from .travel import drive_time_folium, drive_time_map  # issue 15
    from .web import clean_coverage, coverage_defects, simplify_coverage, to_topojson, web_geometries
    from .whatif import whatif_map
