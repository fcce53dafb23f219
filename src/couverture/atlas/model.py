"""What the atlas knows about a diagnostic, read once: the inputs it has and the names it reads.

:func:`atlas_model` turns a :class:`~couverture.analysis.diagnostic.Diagnostic`
into an immutable :class:`AtlasModel`: which inputs the territory brought (ZVS,
approval dates, capacity, convention, siting scenario) and therefore which
figures each page may show, the analysis radius, the slugs of the units and
structures. Pages ask the model (``model.has_zones``) instead of guessing from
a column full of zeros.

Two functions are the only places where the atlas reads a parameter name or a
level column name of the analysis layer: :func:`radius_m` and
:func:`level_column`. When the analysis renames its columns (fixed names, radius
in metadata) or its parameters, only these two change.

Examples
--------
>>> from couverture.io.demo import load_demo
>>> from couverture.analysis.diagnostic import diagnose
>>> m = atlas_model(diagnose(load_demo(), evolution=False))
>>> m.has_zones, m.radius_m, m.radius_km
(True, 5000.0, '5')
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd

from ..analysis.diagnostic import NON_CALCULE_SANS_ZVS
from ._site import unique_slugs

__all__ = [
    "NON_CALCULE_SANS_ZVS",
    "AtlasModel",
    "atlas_model",
    "level_column",
    "radius_m",
    "scenario_radius_m",
]

#: Level columns whose name depends on the radius, by the key the atlas uses for them.
_RADIUS_COLUMNS = {
    "@sans_structure": re.compile(r"^population_sans_structure_(?!accessible)[\w.]+$"),
    "@part_sans_structure": re.compile(r"^part_sans_structure_[\w.]+_pct$"),
}


def radius_m(parametres: Any) -> float:
    """The analysis radius in metres, from the diagnostic's parameters (5 000 m when absent).

    The one place where the atlas reads the radius: adapt it here when the
    parameters change shape.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> radius_m(SimpleNamespace(radius=2500)), radius_m(None)
    (2500.0, 5000.0)
    """
    return float(getattr(parametres, "radius", 5000.0) or 5000.0)


def scenario_radius_m(parametres: Any, attrs: Mapping[str, Any] | None = None) -> float:
    """Radius of the siting scenario: its table's metadata, else the scenario parameter, else the analysis radius.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> scenario_radius_m(SimpleNamespace(radius=5000, scenario_radius=5000.0)), scenario_radius_m(None, {"rayon_m": 3000})
    (5000.0, 3000.0)
    """
    value = (attrs or {}).get("rayon_m") or getattr(parametres, "scenario_radius", None)
    return float(value) if value else radius_m(parametres)


def level_column(columns: Sequence[Any], key: str) -> str | None:
    """The column of a level table (:func:`couverture.analysis.levels.aggregate`) the atlas means by ``key``.

    ``key`` is a column name, or ``@sans_structure`` / ``@part_sans_structure``
    for the columns whose name carries the radius today. The one place where
    the atlas resolves a level column name.

    Examples
    --------
    >>> cols = ["population", "population_sans_structure_5km", "part_sans_structure_5km_pct",
    ...         "population_sans_structure_accessible"]
    >>> level_column(cols, "@sans_structure"), level_column(cols, "@part_sans_structure")
    ('population_sans_structure_5km', 'part_sans_structure_5km_pct')
    >>> level_column(cols, "population"), level_column(cols, "taux_couverture_pct") is None
    ('population', True)
    """
    if not key.startswith("@"):
        return key if key in columns else None
    pattern = _RADIUS_COLUMNS[key]
    return next((str(c) for c in columns if pattern.match(str(c))), None)


def _km_text(metres: float) -> str:
    return f"{metres / 1000:g}".replace(".", ",")


@dataclass(frozen=True)
class AtlasModel:
    """The inputs a diagnostic has, the radius, and the slugs of its units and structures."""

    has_zones: bool
    has_dates: bool
    has_capacity: bool
    has_convention: bool
    has_scenarios: bool
    radius_m: float
    unit_slugs: Mapping[str, str]
    structure_slugs: Mapping[str, str]
    unit_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    structure_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: The zones blanches the pages show: the ZVS's, or without ZVS the zones blanches de proximité (read-only copy).
    gaps: pd.DataFrame | None = None
    #: Key figures (``valeur``, ``unite`` by label), read-only copy.
    key_figures: pd.DataFrame | None = None

    @property
    def radius_km(self) -> str:
        """The radius in kilometres, French notation (``"2,5"``)."""
        return _km_text(self.radius_m)

    def coverage_text(self, text: str) -> str:
        """``text`` when the territory has ZVS, else « non calculé : aucune ZVS fournie ».

        Examples
        --------
        >>> m = AtlasModel(False, False, False, False, False, 5000.0, {}, {})
        >>> m.coverage_text("1 200 hab.")
        'non calculé : aucune ZVS fournie'
        """
        return text if self.has_zones else NON_CALCULE_SANS_ZVS

    def key_figure(self, label: str) -> Any:
        """The value of a key figure, None when the diagnostic has no such row."""
        kf = self.key_figures
        if kf is None or "valeur" not in kf.columns or label not in kf.index:
            return None
        return kf.at[label, "valeur"]

    def unit_link(self, code: str) -> dict[str, str] | None:
        """Link to a unit's page (``href`` from the site's root, ``texte``), None when it has none."""
        if code not in self.unit_slugs:
            return None
        return {
            "href": f"communes/{self.unit_slugs[code]}.html",
            "texte": self.unit_names.get(code, code),
        }

    def structure_link(self, sid: str) -> dict[str, str] | None:
        """Link to a structure's fiche, None when it has none."""
        if sid not in self.structure_slugs:
            return None
        return {
            "href": f"structures/{self.structure_slugs[sid]}.html",
            "texte": self.structure_names.get(sid, sid),
        }


def atlas_model(d: Any) -> AtlasModel:
    """Build the :class:`AtlasModel` of a diagnostic (nothing is computed, everything is read)."""
    units = d.unites
    structures = d.structures
    evolution = getattr(d, "evolution", None)
    scenarios = getattr(d, "scenarios", None)
    convention = getattr(d.territory, "convention", None)
    has_zones = bool(getattr(d, "has_zones", d.zones is not None and len(d.zones) > 0))
    unit_codes = units["code_insee"].astype(str).tolist()
    ids = structures["structure_id"].astype(str).tolist()
    names = units["nom"].astype(str).tolist() if "nom" in units.columns else unit_codes
    snames = structures["nom"].astype(str).tolist() if "nom" in structures.columns else ids
    gaps = d.zones_blanches if has_zones else getattr(d, "zones_blanches_proximite", None)
    return AtlasModel(
        has_zones=has_zones,
        has_dates=evolution is not None and len(evolution) > 0,
        has_capacity="capacite" in structures.columns and bool(structures["capacite"].notna().any()),
        has_convention=convention is not None and len(convention) > 0,
        has_scenarios=scenarios is not None and len(scenarios) > 0,
        radius_m=radius_m(d.params),
        unit_slugs=MappingProxyType(dict(zip(unit_codes, unique_slugs(unit_codes)))),
        structure_slugs=MappingProxyType(dict(zip(ids, unique_slugs(ids)))),
        unit_names=MappingProxyType(dict(zip(unit_codes, names))),
        structure_names=MappingProxyType(dict(zip(ids, snames))),
        gaps=None
        if gaps is None
        else pd.DataFrame(
            gaps.drop(columns=gaps.geometry.name, errors="ignore") if hasattr(gaps, "geometry") else gaps
        ).copy(),
        key_figures=None if getattr(d, "chiffres_cles", None) is None else d.chiffres_cles.copy(),
    )
