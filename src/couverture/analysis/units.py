"""Levels of fine units (200 m cells, IRIS): commune, EPCI, ZVS and QPV, each a partition.

:func:`unit_levels` gives every unit exactly one value per level, so that
:func:`couverture.aggregate` (``by=levels["epci"]``...) counts each inhabitant
once at every level:

- ``code_insee``: the unit's commune (its own column);
- ``epci``: the commune's EPCI (from ``communes``), ``(non renseigné)`` when
  unknown;
- ``zvs``: the ZVS containing the unit's analysis point, as the ``"; "``-joined
  structure ids of every zone containing it — an overlap of two ZVS is its
  own group (``"CS1; EVS2"``), never counted twice — or ``(hors ZVS)``;
- ``code_qp``: the QPV containing the point (first in the layer's order on a
  shared boundary) or ``(hors QPV)``.

Examples
--------
>>> import geopandas as gpd, pandas as pd
>>> from shapely.geometry import Point, box
>>> u = gpd.GeoDataFrame({"code_insee": ["13001", "13001", "13002"], "population": [5, 7, 9]},
...     geometry=[Point(1, 1), Point(5, 1), Point(9, 1)], crs=2154)
>>> c = pd.DataFrame({"code_insee": ["13001", "13002"], "epci": ["200054807", "200054807"]})
>>> z = gpd.GeoDataFrame({"structure_id": ["CS1", "EVS2"]},
...     geometry=[box(0, 0, 6, 2), box(4, 0, 10, 2)], crs=2154)
>>> unit_levels(u, communes=c, zones=z)["zvs"].tolist()
['CS1', 'CS1; EVS2', 'EVS2']
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._points import NON_RENSEIGNE, align_crs, analysis_points, ids_of, join_ids
from .qpv import HORS_QPV, qpv_of_points

__all__ = ["HORS_ZVS", "unit_levels"]

#: Label of the units outside every ZVS.
HORS_ZVS = "(hors ZVS)"


def unit_levels(
    units: gpd.GeoDataFrame,
    *,
    communes: pd.DataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    qpv: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """One value per unit and level (commune, EPCI, ZVS, QPV): a partition at each level.

    Parameters
    ----------
    units : GeoDataFrame
        Fine units with ``code_insee`` (their commune).
    communes : DataFrame, optional
        Communes with ``code_insee`` and ``epci`` (SIREN).
    zones, qpv : GeoDataFrame, optional
        ZVS (``structure_id``) and QPV layers.

    Returns
    -------
    pandas.DataFrame
        On units' index, columns among ``code_insee``, ``epci``, ``zvs``,
        ``code_qp`` (strings, never missing).
    """
    out = pd.DataFrame(index=units.index.copy())
    if "code_insee" in units.columns:
        out["code_insee"] = (
            units["code_insee"].astype(object).where(units["code_insee"].notna(), NON_RENSEIGNE).astype(str).to_numpy()
        )
    if communes is not None and "epci" in communes.columns and "code_insee" in out.columns:
        table = pd.Series(communes["epci"].to_numpy(), index=communes["code_insee"].astype(str))
        table = table[~table.index.duplicated()]
        epci = table.reindex(out["code_insee"].to_numpy()).to_numpy(dtype=object)
        out["epci"] = np.where(pd.isna(epci), NON_RENSEIGNE, epci).astype(str)
    xy = analysis_points(units, "units") if zones is not None or qpv is not None else None
    if zones is not None:
        zones = align_crs(zones, units.crs, "zones")
        tree = shapely.STRtree(np.asarray(zones.geometry.values))
        pi, zi = tree.query(shapely.points(xy), predicate="intersects")
        joined = join_ids(pi, ids_of(zones)[zi], len(units))
        out["zvs"] = np.where(joined == "", HORS_ZVS, joined).astype(str)
    if qpv is not None:
        qpv = align_crs(qpv, units.crs, "qpv")
        rows = qpv_of_points(qpv, xy)
        codes = qpv["code_qp"] if "code_qp" in qpv.columns else qpv.index.to_series()
        codes = codes.astype(str).to_numpy(dtype=object)
        out["code_qp"] = np.where(rows >= 0, codes[np.maximum(rows, 0)], HORS_QPV).astype(str)
    return out


#: Above this many fine units, the atlas shows them regrouped by commune (one map feature per
#: commune, never one per cell): a département has 30 000 to 150 000 inhabited 200 m cells.
MAX_ENTITES_ATLAS = 5000


def display_units(units: gpd.GeoDataFrame, max_features: int = MAX_ENTITES_ATLAS) -> gpd.GeoDataFrame | None:
    """Fine units regrouped by commune for display, or None when they are few enough.

    Each commune gets the exact sum of its units' population, the
    population-weighted mean of the distances and of the 2SFCA accessibility,
    ``couvert`` / ``dans_rayon`` when at least half of its population is
    covered / within reach (``part_couverte_pct``, ``part_dans_rayon_pct``
    give the shares), ``n_zones`` the population-weighted median number of
    ZVS, and the union of its units' polygons.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> u = gpd.GeoDataFrame({"commune": ["13001", "13001", "13002"], "nom": ["A (c1)", "A (c2)", "B (c3)"],
    ...     "population": [30, 10, 5], "distance_m": [0.0, 400.0, 100.0], "couvert": [True, False, False]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=2154)
    >>> g = display_units(u, max_features=2)
    >>> g[["code_insee", "population", "distance_m", "couvert", "part_couverte_pct"]].values.tolist()
    [['13001', 40, 100.0, True, 75.0], ['13002', 5, 100.0, False, 0.0]]
    """
    if len(units) <= max_features or "commune" not in units.columns:
        return None
    from .levels import weighted_median

    codes, labels = pd.factorize(units["commune"].astype(str), sort=True)
    k = len(labels)
    pop = units["population"].to_numpy()
    wsum = np.bincount(codes, weights=pop.astype(float), minlength=k)
    out = pd.DataFrame({"code_insee": labels.astype(str)})
    out["population"] = (
        np.bincount(codes, weights=pop, minlength=k).round().astype(np.int64)
        if np.issubdtype(pop.dtype, np.integer)
        else np.bincount(codes, weights=pop, minlength=k)
    )
    if "nom" in units.columns:
        first = pd.Series(units["nom"].astype(str).to_numpy()).groupby(codes).first()
        out["nom"] = first.str.replace(r" \([^()]*\)$", "", regex=True).reindex(range(k)).to_numpy()
    for col in ("epci", "epci_nom", "departement"):
        if col in units.columns:
            out[col] = pd.Series(units[col].to_numpy()).groupby(codes).first().reindex(range(k)).to_numpy()
    for col in [c for c in units.columns if c.startswith(("distance", "acces_"))]:
        v = pd.to_numeric(units[col], errors="coerce").to_numpy(float)
        ok = np.isfinite(v)
        num = np.bincount(codes[ok], weights=(v * pop)[ok], minlength=k)
        den = np.bincount(codes[ok], weights=pop[ok].astype(float), minlength=k)
        out[col] = np.divide(num, den, out=np.full(k, np.nan), where=den > 0)
    for col, share in (("couvert", "part_couverte_pct"), ("dans_rayon", "part_dans_rayon_pct")):
        if col in units.columns:
            part = np.bincount(codes, weights=np.where(units[col].to_numpy(bool), pop, 0), minlength=k)
            out[share] = np.divide(100.0 * part, wsum, out=np.zeros(k), where=wsum > 0)
            out[col] = out[share].to_numpy() >= 50.0
    if "n_zones" in units.columns:
        out["n_zones"] = weighted_median(units["n_zones"].to_numpy(float), pop, codes, k).astype(np.int64)
    if "structures_zvs" in units.columns:
        pairs = pd.DataFrame({"c": codes, "s": units["structures_zvs"].astype(str).str.split("; ")}).explode("s")
        pairs = pairs[pairs["s"] != ""]
        joined = pairs.groupby("c")["s"].agg(lambda s: "; ".join(sorted(set(s))))
        out["structures_zvs"] = joined.reindex(range(k)).fillna("").to_numpy()
    geoms = (
        gpd.GeoSeries(units.geometry.values, crs=units.crs)
        .groupby(codes)
        .agg(lambda g: shapely.union_all(np.asarray(g.values)))
    )
    gdf = gpd.GeoDataFrame(out, geometry=np.asarray(geoms.reindex(range(k)).values), crs=units.crs)
    gdf.index = pd.Index(gdf["code_insee"].to_numpy(), name="code_insee")
    gdf.attrs["regroupement"] = f"{len(units)} unités regroupées en {k} communes pour l'affichage"
    return gdf
