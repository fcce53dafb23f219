"""couverture: territorial coverage and equity of the *animation de la vie sociale*.

Load communes, centres sociaux (CS), espaces de vie sociale (EVS) and their
zones de vie sociale (ZVS); compute coverage, gaps, distances, 2SFCA
accessibility and equity indices; render maps and an HTML atlas.

The public names are imported lazily, so ``import couverture`` stays fast and
matplotlib or folium are only loaded when a map is drawn.

Examples
--------
>>> import couverture as cv
>>> cv.__version__
'0.1.0'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "InputError": "couverture.errors",
    "CouvertureWarning": "couverture.errors",
    "Rapport": "couverture.errors",
    "Parameters": "couverture.params",
    "Scenario": "couverture.params",
    "load_territory": "couverture.io.load",
    "Territory": "couverture.territory",
    "read_communes": "couverture.io.communes",
    "read_structures": "couverture.io.structures",
    "read_zones": "couverture.io.zones",
    "geocode": "couverture.io.geocode",
    "read_populations": "couverture.io.populations",
    "load_demo": "couverture.io.demo",
    "read_grid": "couverture.io.grid",
    "read_iris": "couverture.io.iris",
    "read_qpv": "couverture.io.qpv",
    "qpv_coverage": "couverture.analysis.qpv",
    "qpv_structure_share": "couverture.analysis.qpv",
    "unit_levels": "couverture.analysis.units",
    "demand_table": "couverture.analysis.demand",
    "zone_coverage": "couverture.analysis.coverage",
    "coverage_summary": "couverture.analysis.coverage",
    "zones_blanches": "couverture.analysis.coverage",
    "nearest_distance": "couverture.analysis.proximity",
    "population_within": "couverture.analysis.proximity",
    "catchments": "couverture.analysis.proximity",
    "two_step_fca": "couverture.analysis.fca",
    "aggregate": "couverture.analysis.levels",
    "gini": "couverture.analysis.equity",
    "theil": "couverture.analysis.equity",
    "theil_decomposition": "couverture.analysis.equity",
    "atkinson": "couverture.analysis.equity",
    "lorenz": "couverture.analysis.equity",
    "equity_report": "couverture.analysis.equity",
    "coefficient_variation": "couverture.analysis.equity",
    "hoover": "couverture.analysis.equity",
    "ratio_deciles": "couverture.analysis.equity",
    "share_below": "couverture.analysis.equity",
    "weighted_quantile": "couverture.analysis.equity",
    "TheilDecomposition": "couverture.analysis.equity",
    "decay_weights": "couverture.analysis.fca",
    "diagnose": "couverture.analysis.diagnostic",
    "Diagnostic": "couverture.analysis.diagnostic",
    "best_sites": "couverture.analysis.scenarios",
    "propose_attachments": "couverture.analysis.scenarios",
    "what_if": "couverture.analysis.whatif",
    "WhatIf": "couverture.analysis.whatif",
    "attachments_to_changes": "couverture.analysis.whatif",
    "timeline": "couverture.analysis.timeline",
    "read_convention": "couverture.io.convention",
    "build_atlas": "couverture.atlas.build",
    "build_report": "couverture.report.build",
    "export_diagnostic": "couverture.exports",
    "load_config": "couverture.config",
    # issue 15: road networks and travel times
    "road_network": "couverture.io.network",
    "RoadNetwork": "couverture.io.network",
    "travel_times": "couverture.analysis.travel",
    "nearest_time": "couverture.analysis.travel",
    "drive_time_areas": "couverture.analysis.travel",
    "Parametres": "couverture.config",
    "Config": "couverture.config",
}

_SUBMODULES = {"maps", "io", "analysis", "atlas", "codes", "errors", "config", "exports", "report"}

__all__ = sorted([*_EXPORTS, "maps", "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(_EXPORTS[name])
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"couverture.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'couverture' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from . import maps
    from .analysis.coverage import coverage_summary, zone_coverage, zones_blanches
    from .analysis.demand import demand_table
    from .analysis.diagnostic import Diagnostic, diagnose
    from .analysis.equity import (
        TheilDecomposition,
        atkinson,
        coefficient_variation,
        equity_report,
        gini,
        hoover,
        lorenz,
        ratio_deciles,
        share_below,
        theil,
        theil_decomposition,
        weighted_quantile,
    )
    from .analysis.fca import decay_weights, two_step_fca
    from .analysis.levels import aggregate
    from .analysis.proximity import catchments, nearest_distance, population_within
    from .analysis.qpv import qpv_coverage, qpv_structure_share
    from .analysis.scenarios import best_sites, propose_attachments
    from .analysis.timeline import timeline
    from .analysis.travel import drive_time_areas, nearest_time, travel_times  # issue 15
    from .analysis.units import unit_levels
    from .analysis.whatif import WhatIf, attachments_to_changes, what_if
    from .atlas.build import build_atlas
    from .config import Config, Parametres, load_config
    from .errors import CouvertureWarning, InputError, Rapport
    from .exports import export_diagnostic
    from .io.communes import read_communes
    from .io.convention import read_convention
    from .io.demo import load_demo
    from .io.geocode import geocode
    from .io.grid import read_grid
    from .io.iris import read_iris
    from .io.load import load_territory
    from .io.network import RoadNetwork, road_network  # issue 15
    from .io.populations import read_populations
    from .io.qpv import read_qpv
    from .io.structures import read_structures
    from .io.zones import read_zones
    from .params import Parameters, Scenario
    from .report.build import build_report
    from .territory import Territory
